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

    /// One raw request with the given Host and a matching Origin; the status line's code.
    static func status(port: UInt16, host: String, _ request: String) throws -> Int {
        let raw = try RawSocket(port: port)
        raw.send(request.replacingOccurrences(of: "HOST", with: host))
        let head = raw.readHTTPHead()
        return Int(head.split(separator: " ").dropFirst().first ?? "") ?? 0
    }

    static let upgradeRequest = "GET /bus HTTP/1.1\r\nHost: HOST\r\nOrigin: http://HOST\r\nUpgrade: websocket\r\n"
        + "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
    static let publishRequest = "POST /publish/t HTTP/1.1\r\nHost: HOST\r\nOrigin: http://HOST\r\nContent-Type: application/json\r\n"
        + "Content-Length: 1\r\nConnection: close\r\n\r\n1"
    static let historyRequest = "GET /history/t HTTP/1.1\r\nHost: HOST\r\nOrigin: http://HOST\r\nConnection: close\r\n\r\n"

    /// Guards the DNS-rebinding check: `127.attacker.example` is a name an attacker controls
    /// (it may resolve to 127.0.0.1), not a loopback address, whatever it starts with.
    @Test func loopbackListenerRefusesNamesThatOnlyLookLikeLoopback() throws {
        let server = try ServerProcess()
        defer { server.stop() }
        let port = server.port
        for host in ["127.attacker.example:\(port)", "127.0.0.1.attacker.example:\(port)", "localhost.attacker.example:\(port)"] {
            #expect(try Self.status(port: port, host: host, Self.upgradeRequest) == 403, "upgrade, \(host)")
            #expect(try Self.status(port: port, host: host, Self.publishRequest) == 403, "publish, \(host)")
            #expect(try Self.status(port: port, host: host, Self.historyRequest) == 403, "history, \(host)")
        }
        for host in ["127.0.0.1:\(port)", "localhost:\(port)", "[::1]:\(port)", "app.localhost:\(port)"] {
            #expect(try Self.status(port: port, host: host, Self.upgradeRequest) == 101, "upgrade, \(host)")
            #expect(try Self.status(port: port, host: host, Self.publishRequest) == 200, "publish, \(host)")
            #expect(try Self.status(port: port, host: host, Self.historyRequest) == 200, "history, \(host)")
        }
    }
}
