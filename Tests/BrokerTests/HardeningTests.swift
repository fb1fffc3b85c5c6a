import Auth
import BusProtocol
import Foundation
import Frames
import Testing
@testable import Broker

/// Regression tests for issue 13 ("Hardening II"), each against a real `broker-server` child
/// process: a bad input must get its documented answer and leave the process serving others.
@Suite(.serialized) struct HardeningTests {
    static let secret = "hardening-jwt-secret-of-more-than-32-bytes"

    /// Guards the JWT expiry arithmetic: an `exp` in milliseconds, or centuries ahead, is a
    /// valid token that never expires in practice; converting it to a monotonic deadline
    /// trapped ("Double value cannot be converted to UInt64") and killed every connection.
    @Test func jwtWithAHugeExpiryIsAcceptedAndTheServerLives() throws {
        let server = try ServerProcess(["--auth-jwt-secret", Self.secret])
        defer { server.stop() }
        let millis = String(Int(Date().timeIntervalSince1970 * 1000))
        for exp in [millis, "1e300", "1.8e19", "18446744073709551616", "1.7976931348623157e308"] {
            let token = JWTSigner.sign(claims: #"{"exp":\#(exp),"bus":{"pub":["t"],"sub":["t"]}}"#, secret: Array(Self.secret.utf8))
            let client = try BusClient(port: server.port, headers: [("Authorization", "Bearer \(token)")])
            guard case .ack = try client.subscribe("t") else { Issue.record("exp \(exp): subscribe refused"); return }
            client.close()
        }
        let fresh = try BusClient(port: server.port, headers: [("Authorization", "Bearer "
            + JWTSigner.sign(claims: #"{"bus":{"pub":["t"]}}"#, secret: Array(Self.secret.utf8)))])
        guard case .ack = try #require(try fresh.publish("t", json: "1")) else { Issue.record("publish after"); return }
        fresh.close()
        #expect(try HTTPResult(port: server.port, "/healthz").status == 200)
    }
}
