import Glibc

extension Sys {
    /// A numeric IPv4 (`203.0.113.7`) or IPv6 (`2001:db8::1`) address's bytes in network
    /// order: 4 or 16 of them (`inet_pton`); nil if `text` is neither.
    package static func ipAddressBytes(_ text: String) -> [UInt8]? {
        var v4 = in_addr()
        if inet_pton(AF_INET, text, &v4) == 1 { return withUnsafeBytes(of: &v4) { Array($0) } }
        var v6 = in6_addr()
        if inet_pton(AF_INET6, text, &v6) == 1 { return withUnsafeBytes(of: &v6) { Array($0) } }
        return nil
    }

    /// 4 or 16 address bytes as text (`inet_ntop`): `203.0.113.7`, `2001:db8::1`.
    package static func ipAddressText(_ bytes: [UInt8]) -> String {
        var buffer = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
        let family = bytes.count == 4 ? AF_INET : AF_INET6
        bytes.withUnsafeBytes { _ = inet_ntop(family, $0.baseAddress, &buffer, socklen_t(buffer.count)) }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}

extension Sys {
    /// The resolver's own words for a `getaddrinfo` failure (`gai_strerror`): its codes are
    /// `EAI_*` values, not `errno`, so `strerror` would call them "Unknown error -2".
    package static func resolverErrorText(_ code: Int32) -> String { String(cString: gai_strerror(code)) }
}
