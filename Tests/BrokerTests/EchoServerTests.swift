import Frames
import Glibc
import Testing
@testable import Broker

/// End-to-end behaviour of the WebSocket core against a live in-process server on /echo.
@Suite(.serialized) struct EchoServerTests {
    @Test(arguments: [0, 1, 125, 126, 65535, 65536, 300_000])
    func echoReturnsBinaryByteForByte(size: Int) throws {
        let server = try LiveServer()
        defer { server.stop() }
        let client = try server.client()
        let payload = (0..<size).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) }
        try client.send(binary: payload)
        #expect(try client.receive() == .binary(payload))
        try client.close()
    }

    @Test func echoReturnsTextAndReassembledFragments() throws {
        let server = try LiveServer()
        defer { server.stop() }
        let client = try server.client()
        try client.send(text: "κόσμε hello")
        #expect(try client.receive() == .text("κόσμε hello"))
        try client.send(.text, Array("Hel".utf8), fin: false)
        try client.ping([1, 2, 3])  // a control frame between fragments is allowed
        try client.send(.continuation, Array("lo".utf8), fin: true)
        #expect(try client.receive() == .pong([1, 2, 3]))
        #expect(try client.receive() == .text("Hello"))
        try client.close()
    }

    @Test func manyMessagesComeBackInOrder() throws {
        let server = try LiveServer()
        defer { server.stop() }
        let client = try server.client()
        for i in 0..<2000 { try client.send(text: "m\(i)") }
        for i in 0..<2000 { #expect(try client.receive() == .text("m\(i)")) }
        try client.close()
    }

    @Test func closeIsAnsweredWithTheSameCodeAndServerDropsTCP() throws {
        let server = try LiveServer()
        defer { server.stop() }
        let raw = try RawSocket(port: server.port)
        #expect(raw.upgrade().hasPrefix("HTTP/1.1 101"))
        raw.send(FrameEncoder.encode(opcode: .close, payload: FrameEncoder.closePayload(code: CloseCode(rawValue: 3001), reason: "bye"),
                                     maskKey: .random()))
        let reply = raw.read(timeout: 3)
        #expect(reply.eof)
        #expect(reply.bytes.prefix(4) == [0x88, 0x02, 0x0B, 0xB9])  // close, 2 bytes, code 3001
    }

    @Test(arguments: [
        // unmasked client frame
        ([0x81, 0x02, 0x68, 0x69], UInt16(1002)),
        // reserved bit set
        ([0xC1, 0x80, 0, 0, 0, 0], 1002),
        // unknown opcode 3
        ([0x83, 0x80, 0, 0, 0, 0], 1002),
        // invalid UTF-8 in a text frame (0xC0 0xAF)
        ([0x81, 0x82, 0, 0, 0, 0, 0xC0, 0xAF], 1007),
        // declared length above the 1 MiB limit, detected from the header alone
        ([0x82, 0xFF, 0, 0, 0, 0, 0x01, 0, 0, 0, 0, 0, 0, 0], 1009),
    ] as [([UInt8], UInt16)])
    func badFramesGetTheRightCloseCode(frame: [UInt8], code: UInt16) throws {
        let server = try LiveServer()
        defer { server.stop() }
        let raw = try RawSocket(port: server.port)
        #expect(raw.upgrade().hasPrefix("HTTP/1.1 101"))
        raw.send(frame)
        let reply = raw.read(timeout: 7) { $0.count >= 4 }
        #expect(reply.bytes.count >= 4)
        #expect(reply.bytes.first == 0x88)
        #expect(reply.bytes.count >= 4 && UInt16(reply.bytes[2]) << 8 | UInt16(reply.bytes[3]) == code)
    }

    @Test(arguments: [
        ("GET /echo HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", "426"),
        ("GET /nowhere HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", "404"),
        ("POST /echo HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n", "405"),
        ("GET /echo HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: upgrade\r\nSec-WebSocket-Key: short\r\nSec-WebSocket-Version: 13\r\n\r\n", "400"),
        ("GET /echo HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 8\r\n\r\n", "426"),
        ("GARBAGE\r\n\r\n", "400"),
        ("GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX: " + String(repeating: "a", count: 9000) + "\r\n\r\n", "431"),
    ])
    func badHandshakesGetAClearHTTPError(request: String, status: String) throws {
        let server = try LiveServer()
        defer { server.stop() }
        let raw = try RawSocket(port: server.port)
        raw.send(request)
        let head = raw.readHTTPHead()
        #expect(head.hasPrefix("HTTP/1.1 \(status)"), "got: \(head.prefix(60))")
        if status == "426" && request.contains("Version: 8") { #expect(head.contains("Sec-WebSocket-Version: 13")) }
    }

    @Test func plainHTTPKeepsAliveAcrossRequests() throws {
        let server = try LiveServer()
        defer { server.stop() }
        let raw = try RawSocket(port: server.port)
        raw.send("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\nGET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        let reply = raw.read(timeout: 3) { String(decoding: $0, as: UTF8.self).components(separatedBy: "200 OK").count == 3 }
        #expect(String(decoding: reply.bytes, as: UTF8.self).components(separatedBy: "200 OK").count == 3)
        #expect(!reply.eof)
    }

    @Test func handshakeTimeoutIsATotalDeadline() throws {
        let server = try LiveServer { $0.handshakeTimeout = 1 }
        defer { server.stop() }
        let raw = try RawSocket(port: server.port)
        // Trickle bytes: an inactivity timer would never fire, a total deadline does.
        var closed = false
        let start = Sys.monotonicNanos()
        for byte in "GET /echo HTTP/1.1\r\nHost: 127.0.0.1\r\n".utf8 {
            raw.send([byte])
            if raw.read(timeout: 0.1).eof { closed = true; break }
        }
        if !closed { closed = raw.read(timeout: 3).eof }
        #expect(closed)
        #expect(Double(Sys.monotonicNanos() - start) / 1e9 < 4)
        #expect(eventually { server.server.openConnections == 0 })
    }

    @Test func quietPeerIsPingedAndSilentOneIsDropped() throws {
        let server = try LiveServer { $0.pingInterval = 0.5; $0.idleTimeout = 1.5 }
        defer { server.stop() }
        let raw = try RawSocket(port: server.port)
        #expect(raw.upgrade().hasPrefix("HTTP/1.1 101"))
        let ping = raw.read(timeout: 3) { !$0.isEmpty }
        #expect(ping.bytes.first == 0x89)
        // Never answering: dropped after the idle timeout.
        #expect(raw.read(timeout: 4).eof)
    }

    @Test func peerThatAnswersPingsIsNeverDroppedForSilence() throws {
        let server = try LiveServer { $0.pingInterval = 0.3; $0.idleTimeout = 1 }
        defer { server.stop() }
        let client = try server.client()
        // The client sends nothing of its own for 3 idle timeouts; its pongs keep it alive.
        let deadline = Sys.monotonicNanos() + 3_000_000_000
        while Sys.monotonicNanos() < deadline {
            do { _ = try client.receive(timeout: 0.2) } catch WebSocketClient.ClientError.timedOut {}
        }
        try client.send(text: "still here")
        #expect(try client.receive() == .text("still here"))
        try client.close()
    }

    @Test func shutdownClosesWebSocketsWithGoingAway() throws {
        let server = try LiveServer()
        let client = try server.client()
        try client.send(text: "x")
        #expect(try client.receive() == .text("x"))
        server.stop()
        #expect(try client.receive() == .close(code: 1001, reason: "server shutting down"))
    }

    @Test func overTheConnectionLimitNewClientsGet503() throws {
        let server = try LiveServer { $0.maxConnections = 1 }
        defer { server.stop() }
        let first = try server.client()
        let raw = try RawSocket(port: server.port)
        #expect(raw.readHTTPHead().hasPrefix("HTTP/1.1 503"))
        try first.close()
    }
}

/// IPv4 and IPv6 listeners side by side.
@Suite struct DualStackTests {
    @Test func listensOnIPv4AndIPv6Loopback() throws {
        let server = try LiveServer { $0.hosts = ["127.0.0.1", "::1"] }
        defer { server.stop() }
        #expect(server.server.addresses.count == 2)
        for address in server.server.addresses {
            let client = try WebSocketClient(url: try WebSocketURL("ws://\(address.description)/echo"))
            try client.send(text: "via \(address.isIPv6 ? "v6" : "v4")")
            #expect(try client.receive() == .text("via \(address.isIPv6 ? "v6" : "v4")"))
            try client.close()
        }
    }
}

/// Browsers from other origins, and DNS-rebinding pages, are refused (RFC 6455 §10.2).
@Suite(.serialized) struct OriginTests {
    static func upgrade(port: UInt16, host: String, origin: String?, path: String = "/bus") throws -> String {
        let raw = try RawSocket(port: port)
        raw.send("GET \(path) HTTP/1.1\r\nHost: \(host)\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                 + (origin.map { "Origin: \($0)\r\n" } ?? "")
                 + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")
        return raw.readHTTPHead()
    }

    @Test func sameHostOriginsPassOthersGet403() throws {
        let server = try LiveServer()
        defer { server.stop() }
        let host = "127.0.0.1:\(server.port)"
        #expect(try Self.upgrade(port: server.port, host: host, origin: nil).hasPrefix("HTTP/1.1 101"))
        #expect(try Self.upgrade(port: server.port, host: host, origin: "http://\(host)").hasPrefix("HTTP/1.1 101"))
        #expect(try Self.upgrade(port: server.port, host: "localhost:\(server.port)", origin: "http://localhost:\(server.port)").hasPrefix("HTTP/1.1 101"))
        #expect(try Self.upgrade(port: server.port, host: host, origin: "http://evil.example").hasPrefix("HTTP/1.1 403"))
        // DNS rebinding: the page's origin and Host agree, but name no loopback host.
        #expect(try Self.upgrade(port: server.port, host: "rebind.example:\(server.port)",
                                 origin: "http://rebind.example:\(server.port)").hasPrefix("HTTP/1.1 403"))
        // The HTTP publish endpoint obeys the same rule.
        let raw = try RawSocket(port: server.port)
        raw.send("POST /publish/t HTTP/1.1\r\nHost: \(host)\r\nOrigin: http://evil.example\r\nContent-Length: 1\r\n\r\n1")
        #expect(raw.readHTTPHead().hasPrefix("HTTP/1.1 403"))
    }

    @Test func allowListedOriginsPass() throws {
        let server = try LiveServer { $0.allowedOrigins = ["https://app.example.com", "*.trusted.example"] }
        defer { server.stop() }
        let host = "127.0.0.1:\(server.port)"
        #expect(try Self.upgrade(port: server.port, host: host, origin: "https://app.example.com").hasPrefix("HTTP/1.1 101"))
        #expect(try Self.upgrade(port: server.port, host: host, origin: "https://a.trusted.example").hasPrefix("HTTP/1.1 101"))
        #expect(try Self.upgrade(port: server.port, host: host, origin: "https://evil.example").hasPrefix("HTTP/1.1 403"))
    }
}

/// Per-address limits: off by default, enforced with 429 when set.
@Suite(.serialized) struct PeerLimitTests {
    @Test func connectionsPerAddressAreCapped() throws {
        let server = try LiveServer { $0.maxConnectionsPerIP = 2 }
        defer { server.stop() }
        let a = try server.client(), b = try server.client()
        let raw = try RawSocket(port: server.port)
        #expect(raw.readHTTPHead().hasPrefix("HTTP/1.1 429"))
        try a.close()
        #expect(eventually { (try? server.client()).map { try? $0.close(); return true } ?? false })
        try b.close()
    }
}
