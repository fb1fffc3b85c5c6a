import Testing
@testable import Broker

/// Peer addresses as logs, per-IP limits and the loopback Host rule see them.
struct SocketAddressTests {
    @Test(arguments: ["0.0.0.0", "10.1.2.3", "127.0.0.1", "255.255.255.255", "100.20.3.199", "9.99.100.0", "::1", "2001:db8::7", "::ffff:10.0.0.1"])
    func hostPrintsTheAddressItWasMadeFrom(text: String) throws {
        let address = try #require(SocketAddress(numericHost: text, port: 8080))
        #expect(address.host == text)
        #expect(address.port == 8080)
    }

    @Test(arguments: [
        ("127.0.0.1", true), ("127.255.3.4", true), ("128.0.0.1", false), ("10.0.0.127", false),
        ("::1", true), ("::2", false), ("1::1", false), ("::ffff:127.0.0.1", true), ("::ffff:10.0.0.1", false), ("::", false),
    ])
    func loopbackIsRecognisedInEveryFamily(text: String, loopback: Bool) throws {
        #expect(try #require(SocketAddress(numericHost: text, port: 1)).isLoopback == loopback)
    }
}
