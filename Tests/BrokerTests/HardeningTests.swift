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

    /// Guards topic validation on the binary path: the topic bytes `a.\xff` were decoded with
    /// U+FFFD replacement and published to `a.\u{FFFD}`.
    @Test func binaryPublishWithATopicThatIsNotUTF8IsInvalidTopic() throws {
        let server = try ServerProcess()
        defer { server.stop() }
        let watcher = try BusClient(port: server.port)
        try watcher.subscribe(">")
        let publisher = try BusClient(port: server.port)
        for topic: [UInt8] in [[0x61, 0x2E, 0xFF], [0xC0, 0xAF], [0x61, 0xED, 0xA0, 0x80], [0x61, 0xE2, 0x82]] {
            let frame: [UInt8] = [BinaryLayout.publishKind, BinaryLayout.hasIDFlag, 2] + Array("b1".utf8)
                + [0, UInt8(topic.count)] + topic + [1, 2, 3]
            try publisher.socket.send(binary: frame)
            guard case .error(let code, _, _, _, _) = try publisher.reply(to: "\"b1\"") else {
                Issue.record("topic \(topic) was accepted"); continue
            }
            #expect(code == "invalid_topic", "topic \(topic)")
        }
        guard case .ack = try #require(try publisher.publish("a.b", binary: [7])) else { Issue.record("valid publish"); return }
        guard case .message("a.b", _, 1, [7]) = try watcher.next() else { Issue.record("the watcher got something else first"); return }
        watcher.close()
        publisher.close()
    }

    /// One HTTP request on a fresh connection; the whole response.
    static func exchange(port: UInt16, _ request: String) throws -> String {
        let raw = try RawSocket(port: port)
        raw.send(request)
        return HTTPPublishTests.responses(raw, count: 1).first ?? ""
    }

    /// Guards the HTTP path: a percent-decoded topic goes through the same byte validator
    /// (`%FF` is not UTF-8: `invalid_topic` saying so), and `%` escapes are exactly two hex
    /// digits (`%+1` was decoded as 0x01 because `UInt8(_:radix:)` accepts a sign).
    @Test func httpTopicsAreValidatedAsBytes() throws {
        let server = try ServerProcess()
        defer { server.stop() }
        for path in ["/publish/a.%FF", "/publish/a.%C0%AF", "/publish/a.%ED%A0%80"] {
            let reply = try Self.exchange(port: server.port, HTTPPublishTests.post(String(path.dropFirst(9)), "1"))
            #expect(reply.hasPrefix("HTTP/1.1 400") && reply.contains("invalid_topic") && reply.contains("not valid UTF-8"), "\(path): \(reply)")
        }
        let history = try HTTPResult(port: server.port, "/history/a.%FF")
        #expect(history.status == 400 && history.body.contains("not valid UTF-8"), "\(history.body)")
        let signed = try Self.exchange(port: server.port, HTTPPublishTests.post("x%+1", "1"))
        #expect(signed.hasPrefix("HTTP/1.1 200") && signed.contains(#""topic":"x%+1""#), "\(signed)")
        let escaped = try Self.exchange(port: server.port, HTTPPublishTests.post("m%C3%A9t%C3%A9o", "1"))
        #expect(escaped.contains(#""topic":"météo""#), "\(escaped)")
    }

    /// Guards resume arithmetic: `since` = (current epoch, 2^64−1) computed `seq + 1` = 0 and
    /// replayed all history as `recovered: true`. A position the server never issued replays
    /// nothing and is not a recovery.
    @Test func resumeBeyondTheTopicsLastSeqReplaysNothing() throws {
        let server = try ServerProcess()
        defer { server.stop() }
        let publisher = try BusClient(port: server.port)
        var epoch = ""
        for value in 1...3 {
            guard case .ack(_, _, _, let e?, _, _) = try #require(try publisher.publish("w", json: String(value))) else { return }
            epoch = e
        }
        for seq in ["18446744073709551615", "18446744073709551614", "1000", "100000"] {
            let resumer = try BusClient(port: server.port)
            let ack = try resumer.resume("w", #""since":{"epoch":"\#(epoch)","seq":\#(seq)}"#)
            #expect(ack.contains(#""recovered":false"#), "since \(seq): \(ack)")
            guard case .ack(_, _, _, _, let live?, _) = try #require(try publisher.publish("w", json: "0")) else { return }
            guard case .message("w", _, let got, _) = try resumer.next() else { Issue.record("since \(seq): no live message"); return }
            #expect(got == live, "since \(seq): replayed seq \(got) before the live \(live)")
            resumer.close()
            let history = try HTTPResult(port: server.port, "/history/w?epoch=\(epoch)&since=\(seq)")
            #expect(history.status == 200)
            #expect(history.body.contains(#""recovered":false"#) && history.body.contains(#""messages":[]"#), "since \(seq): \(history.body)")
        }
        // At the topic's own position: up to date, nothing to replay, a complete recovery.
        let current = try BusClient(port: server.port)
        guard case .ack(_, _, _, _, let seq?, _) = try #require(try publisher.publish("w", json: "9")) else { return }
        #expect(try current.resume("w", #""since":{"epoch":"\#(epoch)","seq":\#(seq)}"#).contains(#""recovered":true"#))
        current.close()
        publisher.close()
    }
}
