import Testing
@testable import Broker

@Suite struct TokenBucketTests {
    static func takes(_ bucket: inout TokenBucket, _ count: Int, at now: UInt64) -> Int {
        (0..<count).reduce(0) { taken, _ in taken + (bucket.take(now: now) ? 1 : 0) }
    }

    @Test func burstThenRate() {
        var bucket = TokenBucket(rate: 10, burst: 3, now: 0)
        #expect(Self.takes(&bucket, 4, at: 0) == 3)
        #expect(Self.takes(&bucket, 2, at: 100_000_000) == 1)   // 0.1 s refills one token
        #expect(Self.takes(&bucket, 5, at: 10_000_000_000) == 3)  // capped at the burst
    }

    @Test func zeroRateIsUnlimited() {
        var bucket = TokenBucket(rate: 0, burst: 1, now: 0)
        #expect(Self.takes(&bucket, 10_000, at: 0) == 10_000)
    }
}

@Suite struct OriginPolicyTests {
    static let open = OriginPolicy(allowed: [])
    static let listed = OriginPolicy(allowed: ["https://app.example.com", "*.trusted.org", "tools.example.net:8443"])

    @Test(arguments: [
        // (origin, host, loopback listener, allowed?)
        (nil, "example.com", false, true),                                // no Origin: not a browser
        ("http://example.com", "example.com", false, true),              // same host
        ("http://example.com", "example.com:80", false, true),           // default port
        ("https://example.com:8443", "example.com:8443", false, true),
        ("http://evil.com", "example.com", false, false),
        ("http://localhost:8080", "localhost:8080", true, true),
        ("http://127.0.0.1:8080", "127.0.0.1:8080", true, true),
        (nil, "rebind.evil.com:8080", true, false),                       // DNS rebinding on loopback
        ("http://rebind.evil.com:8080", "rebind.evil.com:8080", true, false),
        ("http://127.evil.com:8080", "127.evil.com:8080", true, false),   // a name, not 127.0.0.0/8
        ("http://[::1]:8080", "[::1]:8080", true, true),
        ("null", "example.com", false, false),
    ] as [(String?, String, Bool, Bool)])
    func defaultPolicy(origin: String?, host: String, loopback: Bool, allowed: Bool) {
        #expect((Self.open.check(origin: origin, host: host, loopbackListener: loopback) == .allow) == allowed)
    }

    @Test(arguments: [
        ("https://app.example.com", true),
        ("http://app.example.com", false),           // listed with a scheme: exact
        ("https://a.trusted.org", true),
        ("https://x.y.trusted.org:444", true),
        ("https://trusted.org", false),               // *.x is subdomains only
        ("https://tools.example.net:8443", true),
        ("https://tools.example.net", false),
        ("https://evil.com", false),
    ])
    func allowList(origin: String, allowed: Bool) {
        #expect((Self.listed.check(origin: origin, host: "broker.internal:8080", loopbackListener: false) == .allow) == allowed)
    }

    @Test(arguments: [
        ("Example.COM:8080", "example.com"), ("example.com", "example.com"), ("[::1]:80", "::1"), ("[::1]", "::1"),
        ("::1", "::1"), ("LOCALHOST", "localhost"), ("127.0.0.1:18998", "127.0.0.1"), ("", ""),
    ])
    func hostOnlyDropsThePortAndFoldsCase(authority: String, host: String) {
        #expect(OriginPolicy.hostOnly(authority) == host)
    }

    /// The in-place loopback check of a Host answers as the name `hostOnly` makes would
    /// (issue 13's rebinding names included).
    @Test(arguments: [
        "127.0.0.1:18998", "127.0.0.1", "127.255.0.1:80", "[::1]:8080", "[::1]", "::1", "[::ffff:127.0.0.1]:80",
        "LOCALHOST", "localhost.", "App.LocalHost:3000", "127.attacker.example", "127.0.0.1.evil.com:80",
        "127.1", "0127.0.0.1", "[::1", "127.0.0.1:80:90", "", ":", "[]", "evil.com:127", "localhost:", "[::2]:80",
    ])
    func loopbackAuthorityAgreesWithHostOnly(authority: String) {
        #expect(OriginPolicy.isLoopbackAuthority(authority) == OriginPolicy.isLoopbackName(OriginPolicy.hostOnly(authority)))
    }

    /// Guards the upgrade's fast path: a request without `Origin`, its Host read in place, is
    /// allowed exactly when `check` would allow it, on either kind of listener.
    @Test(arguments: [
        "127.0.0.1:18998", "[::1]:8080", "LOCALHOST", "App.LocalHost:3000", "127.attacker.example", "evil.com:127",
        "example.com", "", "[::1", nil,
    ] as [String?])
    func allowsWithoutOriginAgreesWithCheck(host: String?) {
        for loopback in [false, true] {
            let bytes = host.map { Array($0.utf8) }
            let fast = bytes?.withUnsafeBytes { OriginPolicy.allowsWithoutOrigin(host: $0, loopbackListener: loopback) }
                ?? OriginPolicy.allowsWithoutOrigin(host: nil, loopbackListener: loopback)
            for policy in [Self.open, Self.listed] {
                #expect(fast == (policy.check(origin: nil, host: host, loopbackListener: loopback) == .allow), "\(host ?? "nil") \(loopback)")
            }
        }
    }
}
