@testable import Frames
import Testing

/// The DNS-rebinding guard's notion of loopback (issue 13: any name starting with `127.` passed).
struct LoopbackHostTests {
    @Test(arguments: [
        // IPv4 127.0.0.0/8, dotted quad only
        ("127.0.0.1", true), ("127.255.255.254", true), ("127.0.0.0", true), ("127.1.2.3", true),
        ("128.0.0.1", false), ("126.255.255.255", false), ("0.0.0.0", false), ("10.0.0.1", false),
        ("127.1", false), ("127.0.1", false), ("127", false), ("127.", false), ("127.0.0.1.", false),
        ("127.0.0.256", false), ("127.0.0.-1", false), ("127.0.0.+1", false), ("127.0.0.0x1", false),
        ("0177.0.0.1", false), ("127.00.0.1", false), ("127.0.0.0001", false), ("127..0.1", false),
        ("127.0.0.1.2", false), (" 127.0.0.1", false), ("127.0.0.1 ", false), ("２７.0.0.1", false),
        // names that merely start like loopback
        ("127.attacker.example", false), ("127.0.0.1.attacker.example", false), ("127.0.0.1.nip.io", false),
        // IPv6 ::1 in any spelling, and IPv4-mapped 127/8
        ("::1", true), ("0:0:0:0:0:0:0:1", true), ("0000:0000:0000:0000:0000:0000:0000:0001", true), ("0::1", true),
        ("0:0::0:1", true), ("::0:1", true), ("::ffff:127.0.0.1", true), ("::FFFF:127.9.8.7", true),
        ("::ffff:7f00:1", true), ("0:0:0:0:0:ffff:127.0.0.1", true),
        ("::", false), ("::2", false), ("1::1", false), ("::1:0", false), ("::ffff:128.0.0.1", false),
        ("::127.0.0.1", false), ("::fffe:127.0.0.1", false), ("::ffff:127.0.0.01", false), ("::ffff:127.1", false),
        (":::1", false), ("::1::", false), ("0:0:0:0:0:0:0:0:1", false), ("0:0:0:0:0:0:0:1:", false), (":1", false),
        ("00000::1", false), ("::1%lo", false), ("::1%25lo", false), ("[::1]", false), ("::g", false),
        ("1:2:3:4:5:6:7::", false), ("::1:2:3:4:5:6:7:8", false), ("::ffff:127.0.0.1:1", false),
        // localhost and *.localhost (RFC 6761 §6.3), one trailing dot, any case
        ("localhost", true), ("LOCALHOST", true), ("LocalHost.", true), ("app.localhost", true),
        ("a.b.localhost", true), ("app.localhost.", true), ("APP.LOCALHOST", true),
        ("localhost..", false), (".localhost", false), ("a..localhost", false), ("localhost.example", false),
        ("localhost.attacker.example", false), ("notlocalhost", false), ("xlocalhost", false), ("", false), (".", false),
        ("evil.com", false),
    ])
    func loopbackIsExact(host: String, loopback: Bool) {
        #expect(LoopbackHost.isLoopback(host) == loopback)
    }

    @Test(arguments: [
        ("::1", [UInt8](repeating: 0, count: 15) + [1]),
        ("1:2:3:4:5:6:7:8", [0, 1, 0, 2, 0, 3, 0, 4, 0, 5, 0, 6, 0, 7, 0, 8]),
        ("1::", [0, 1] + [UInt8](repeating: 0, count: 14)),
        ("1:2:3:4:5:6:7::", [0, 1, 0, 2, 0, 3, 0, 4, 0, 5, 0, 6, 0, 7, 0, 0]),
        ("::ffff:1.2.3.4", [UInt8](repeating: 0, count: 10) + [0xFF, 0xFF, 1, 2, 3, 4]),
        ("abcd:EF01::", [0xAB, 0xCD, 0xEF, 0x01] + [UInt8](repeating: 0, count: 12)),
    ] as [(String, [UInt8])])
    func ipv6ParsesLikeInetPton(text: String, bytes: [UInt8]) {
        #expect(LoopbackHost.ipv6(text.utf8) == bytes)
    }

    /// The in-place dotted-quad reading agrees with `ipv4` on every near miss.
    @Test(arguments: ["127.0.0.1", "0.0.0.0", "255.255.255.255", "256.0.0.1", "127.0.0.256", "01.0.0.1", "1.00.0.1",
                      "1.0.0.", ".1.0.0", "1..0.1", "1.0.0.1.2", "1.0.0", "1234.0.0.1", "127.0.0.1a", "a.b.c.d", "", "10.20.30.40"])
    func dottedQuadFirstOctetAgreesWithParser(text: String) {
        #expect(LoopbackHost.ipv4FirstOctet(text.utf8) == LoopbackHost.ipv4(text.utf8)?.first)
    }
}
