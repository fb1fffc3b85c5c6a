import Frames

/// Who may open a WebSocket or publish over HTTP from a browser (RFC 6455 §10.2), as
/// gorilla/websocket's safe default: a request with an `Origin` whose host differs from its
/// `Host` is refused with 403 unless the origin is on the allow-list. On a loopback listener
/// the `Host` itself must be loopback or `localhost` (else a DNS-rebinding page, whose Origin
/// and Host agree, could reach a broker bound to 127.0.0.1).
struct OriginPolicy: Sendable {
    /// Origins allowed besides same-host ones: `https://app.example.com`, `app.example.com`,
    /// or `*.example.com` for any subdomain (any scheme and port unless given).
    let allowed: [String]

    enum Decision: Equatable {
        case allow
        case refuse(String)
    }

    func check(origin: String?, host: String?, loopbackListener: Bool) -> Decision {
        if loopbackListener && !(host.map(Self.isLoopbackAuthority) ?? false) && !isAllowed(origin) {
            return .refuse("this server only answers requests for localhost")
        }
        guard let origin, origin != "null" || !allowed.isEmpty else {
            return origin == nil ? .allow : .refuse("origin null is not allowed")
        }
        let hostName = host.map { Self.hostOnly($0) } ?? ""
        if let originAuthority = Self.authority(of: origin), let host,
           originAuthority.asciiLowercased == host.asciiLowercased || (Self.hostOnly(originAuthority) == hostName && Self.defaultPort(origin, host)) {
            return .allow
        }
        return isAllowed(origin) ? .allow : .refuse("origin \(origin) is not allowed")
    }

    /// `check(origin: nil, host:loopbackListener:) == .allow`, with the `Host` value read in
    /// place: a request without `Origin` (every non-browser client) needs no strings made.
    static func allowsWithoutOrigin(host: UnsafeRawBufferPointer?, loopbackListener: Bool) -> Bool {
        guard loopbackListener else { return true }
        guard let host else { return false }
        return LoopbackHost.isLoopback(bytes: UnsafeRawBufferPointer(rebasing: Self.hostPart(of: host)))
    }

    private func isAllowed(_ origin: String?) -> Bool {
        guard let origin else { return false }
        let originHost = Self.hostOnly(Self.authority(of: origin) ?? origin)
        for entry in allowed {
            let pattern = entry.asciiLowercased
            if pattern.contains("://") {
                if pattern == origin.asciiLowercased { return true }
                continue
            }
            let patternHost = Self.hostOnly(pattern)
            if patternHost.hasPrefix("*.") {
                let suffix = patternHost.dropFirst(1)  // ".example.com"
                if originHost.hasSuffix(suffix) && originHost.count > suffix.count { return true }
            } else if pattern.contains(":") ? (Self.authority(of: origin)?.asciiLowercased == pattern) : originHost == patternHost {
                return true
            }
        }
        return false
    }

    /// `https://a.example.com:8443/path` → `a.example.com:8443`.
    static func authority(of origin: String) -> String? {
        guard let schemeEnd = origin.firstRange(of: "://") else { return nil }
        let rest = origin[schemeEnd.upperBound...]
        return String(rest.prefix { $0 != "/" })
    }

    /// `example.com:8080` → `example.com`; `[::1]:80` → `::1`. Lowercased.
    static func hostOnly(_ authority: String) -> String {
        var authority = authority
        return authority.withUTF8 { hostPart(of: UnsafeRawBufferPointer($0)).asciiLowercased }
    }

    /// `hostOnly` as it stands in `authority`'s bytes, not lowercased.
    private static func hostPart(of authority: UnsafeRawBufferPointer) -> Slice<UnsafeRawBufferPointer> {
        let colon = UInt8(ascii: ":")
        if authority.first == UInt8(ascii: "[") {
            let rest = authority[1...]
            return rest[..<(rest.firstIndex(of: UInt8(ascii: "]")) ?? rest.endIndex)]
        }
        if let last = authority.lastIndex(of: colon), authority.firstIndex(of: colon) == last {
            return authority[..<last]
        }
        return authority[...]
    }

    /// `isLoopbackName(hostOnly(authority))` read in place: every upgrade to a loopback
    /// listener asks it of its `Host`, and most have no `Origin` that would need the name.
    static func isLoopbackAuthority(_ authority: String) -> Bool {
        var authority = authority
        return authority.withUTF8 { LoopbackHost.isLoopback(bytes: UnsafeRawBufferPointer(rebasing: hostPart(of: UnsafeRawBufferPointer($0)))) }
    }

    /// `Origin: http://localhost` and `Host: localhost:80` name the same place.
    private static func defaultPort(_ origin: String, _ host: String) -> Bool {
        let originPort = authority(of: origin).flatMap(port) ?? (origin.asciiLowercased.hasPrefix("https") ? "443" : "80")
        let hostPort = port(host) ?? originPort
        return originPort == hostPort
    }

    private static func port(_ authority: String) -> String? {
        if authority.hasPrefix("[") {
            guard let close = authority.firstIndex(of: "]") else { return nil }
            let after = authority[authority.index(after: close)...]
            return after.hasPrefix(":") ? String(after.dropFirst()) : nil
        }
        let parts = authority.split(separator: ":")
        return parts.count == 2 ? String(parts[1]) : nil
    }

    /// Exactly loopback addresses and `(*.)localhost`: see `LoopbackHost`.
    static func isLoopbackName(_ host: String) -> Bool { LoopbackHost.isLoopback(host) }
}

private extension StringProtocol {
    /// Host names and schemes are ASCII (RFC 3986 §3.1, §3.2.2: IDNs arrive as punycode), so
    /// ASCII case folding is exact here, and several times cheaper than Unicode `lowercased()`
    /// on every request.
    var asciiLowercased: String { utf8[...].asciiLowercased }
}

private extension Collection<UInt8> {
    /// Every upgrade lowercases its Host: a name already in lowercase (nearly all) is copied
    /// as it is, without the array the mapping builds.
    var asciiLowercased: String {
        guard contains(where: { $0 >= 0x41 && $0 <= 0x5A }) else { return String(decoding: self, as: UTF8.self) }
        return String(decoding: map { $0 >= 0x41 && $0 <= 0x5A ? $0 + 0x20 : $0 }, as: UTF8.self)
    }
}
