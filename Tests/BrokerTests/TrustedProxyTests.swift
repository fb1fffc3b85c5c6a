import Testing
@testable import Broker

@Suite struct TrustedProxiesTests {
    let proxies = try! TrustedProxies(["10.0.0.0/8", "192.168.1.7", "fd00::/8"])

    @Test(arguments: [
        // Not from a proxy: the header is anybody's to forge.
        ("203.0.113.9", "1.2.3.4", "203.0.113.9"),
        // From a proxy: the nearest untrusted hop is the client.
        ("10.1.2.3", "1.2.3.4", "1.2.3.4"),
        ("10.1.2.3", "6.6.6.6, 1.2.3.4", "1.2.3.4"),
        ("10.1.2.3", "6.6.6.6, 1.2.3.4, 10.9.9.9", "1.2.3.4"),
        ("192.168.1.7", "1.2.3.4:51000", "1.2.3.4"),
        ("fd00::1", "[2001:db8::7]:443", "2001:db8::7"),
        ("::ffff:10.0.0.1", "2001:db8::7", "2001:db8::7"),
        // Only proxies in the chain: the farthest one.
        ("10.1.2.3", "10.4.4.4", "10.4.4.4"),
        // A malformed hop ends the walk at the last address vouched for.
        ("10.1.2.3", "1.2.3.4, garbage", "10.1.2.3"),
        ("10.1.2.3", "garbage, 10.5.5.5", "10.5.5.5"),
        ("192.168.1.8", "1.2.3.4", "192.168.1.8"),
    ])
    func clientIsTheNearestUntrustedHop(peer: String, forwarded: String, client: String) {
        #expect(proxies.clientAddress(peer: peer, forwardedFor: forwarded) == client)
    }

    @Test func withoutTheHeaderTheClientIsThePeer() {
        #expect(proxies.clientAddress(peer: "10.1.2.3", forwardedFor: nil) == "10.1.2.3")
        #expect(!TrustedProxies.none.trusts("127.0.0.1"))
    }

    @Test(arguments: ["10.0.0.0/33", "nope", "::1/129", "1.2.3.4/-1", "", "1.2.3.4/", "/8"])
    func badEntriesAreConfigErrors(entry: String) {
        #expect(throws: ConfigError.self) { try TrustedProxies([entry]) }
    }

    @Test func prefixesOfOddLengthMatchBitwise() throws {
        let block = try #require(TrustedProxies.Block("172.16.0.0/12"))
        #expect(block.contains(TrustedProxies.parse("172.31.255.255")!))
        #expect(!block.contains(TrustedProxies.parse("172.32.0.0")!))
        #expect(!block.contains(TrustedProxies.parse("::1")!))
    }
}

/// Per-address limits see the client behind a trusted proxy, never a forged header.
@Suite(.serialized) struct TrustedProxyLimitTests {
    private func upgrade(_ port: UInt16, forwardedFor: String) throws -> (RawSocket, String) {
        let raw = try RawSocket(port: port)
        raw.send("GET /echo HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                 + "X-Forwarded-For: \(forwardedFor)\r\n"
                 + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")
        return (raw, raw.readHTTPHead())
    }

    @Test func behindATrustedProxyEachClientHasItsOwnLimit() throws {
        let server = try LiveServer { $0.maxConnectionsPerIP = 1; $0.trustedProxies = ["127.0.0.1"] }
        defer { server.stop() }
        let (a, headA) = try upgrade(server.port, forwardedFor: "198.51.100.1")
        let (b, headB) = try upgrade(server.port, forwardedFor: "198.51.100.2")
        #expect(headA.hasPrefix("HTTP/1.1 101"))
        #expect(headB.hasPrefix("HTTP/1.1 101"))
        let (_, again) = try upgrade(server.port, forwardedFor: "198.51.100.1")
        #expect(again.hasPrefix("HTTP/1.1 429"))
        a.close()
        #expect(eventually { (try? upgrade(server.port, forwardedFor: "198.51.100.1"))?.1.hasPrefix("HTTP/1.1 101") ?? false })
        b.close()
    }

    @Test func fromAnUntrustedPeerTheHeaderIsIgnored() throws {
        let server = try LiveServer { $0.maxConnectionsPerIP = 1 }
        defer { server.stop() }
        let (a, headA) = try upgrade(server.port, forwardedFor: "198.51.100.1")
        #expect(headA.hasPrefix("HTTP/1.1 101"))
        let (_, forged) = try upgrade(server.port, forwardedFor: "198.51.100.2")
        #expect(forged.hasPrefix("HTTP/1.1 429"))
        a.close()
    }
}
