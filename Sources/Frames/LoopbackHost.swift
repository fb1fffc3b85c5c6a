/// Whether a `Host` names this machine's loopback interface, decided from the text alone (no
/// resolver, no libc): the DNS-rebinding guard of a loopback listener rests on it.
///
/// Loopback is exactly: a dotted-quad IPv4 address in 127.0.0.0/8 (RFC 1122 §3.2.1.3), `::1`
/// in any valid IPv6 spelling, an IPv4-mapped `::ffff:127.x.y.z` (RFC 4291 §2.5.5.2), and the
/// names `localhost` and `*.localhost` (RFC 6761 §6.3), with one trailing dot allowed, in any
/// case. Anything else is a name someone else's DNS answers for: `127.attacker.example` may
/// resolve to 127.0.0.1 but is the attacker's name (issue 13: a `127.` prefix check let it in).
/// Addresses parse as strictly as `inet_pton`: four decimal octets 0–255 without leading
/// zeros, no short forms like `127.1`, no zone index.
public enum LoopbackHost {
    /// `host` without brackets or port, as `Host` and `Origin` carry it once the port is gone.
    public static func isLoopback(_ host: some StringProtocol) -> Bool {
        isLoopback(bytes: host.utf8)
    }

    /// `isLoopback` of a host's bytes, read in place (a `Host` header's, during an upgrade).
    public static func isLoopback(bytes host: some Collection<UInt8>) -> Bool {
        // Every upgrade to a loopback listener asks this of its Host: a dotted quad is read
        // in place, without the copies the general path makes.
        if let first = ipv4FirstOctet(host) { return first == 127 }
        var name = Array(host).map { $0 >= 0x41 && $0 <= 0x5A ? $0 | 0x20 : $0 }
        if let address = ipv4(name) { return address[0] == 127 }
        if let address = ipv6(name) {
            let zeros = address[0..<10].allSatisfy { $0 == 0 }
            let loopback = zeros && address[10..<15].allSatisfy { $0 == 0 } && address[15] == 1
            let mapped = zeros && address[10] == 0xFF && address[11] == 0xFF && address[12] == 127
            return loopback || mapped
        }
        if name.last == dot { name.removeLast() }
        let localhost = Array("localhost".utf8)
        if name == localhost { return true }
        // `sub.localhost`: every label before it non-empty.
        guard name.count > localhost.count + 1, name.suffix(localhost.count) == localhost[...],
              name[name.count - localhost.count - 1] == dot else { return false }
        let labels = name.dropLast(localhost.count + 1).split(separator: dot, omittingEmptySubsequences: false)
        return labels.allSatisfy { !$0.isEmpty }
    }

    static let dot = UInt8(ascii: ".")
    static let colon = UInt8(ascii: ":")

    /// The 4 bytes of a dotted-quad IPv4 address (`inet_pton(AF_INET)`'s syntax), or nil.
    /// The first octet of `text` when `ipv4` would accept it (nil otherwise), without building
    /// the address.
    static func ipv4FirstOctet(_ text: some Collection<UInt8>) -> UInt8? {
        var parts = 0, digits = 0, value = 0, leadingZero = false
        var first = 0
        for byte in text {
            if byte == dot {
                guard digits > 0, parts < 3 else { return nil }
                if parts == 0 { first = value }
                parts += 1
                (digits, value) = (0, 0)
                continue
            }
            guard byte >= 0x30 && byte <= 0x39, digits < 3, !(leadingZero && digits == 1) else { return nil }
            leadingZero = digits == 0 && byte == 0x30
            value = value * 10 + Int(byte - 0x30)
            digits += 1
            guard value <= 255 else { return nil }
        }
        guard parts == 3, digits > 0 else { return nil }
        return UInt8(first)
    }

    public static func ipv4(_ text: some Collection<UInt8>) -> [UInt8]? {
        let parts = text.split(separator: dot, omittingEmptySubsequences: false)
        guard parts.count == 4 else { return nil }
        var address: [UInt8] = []
        for part in parts {
            guard (1...3).contains(part.count), part.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }),
                  part.count == 1 || part.first != 0x30 else { return nil }
            let value = part.reduce(0) { $0 * 10 + Int($1 - 0x30) }
            guard value <= 255 else { return nil }
            address.append(UInt8(value))
        }
        return address
    }

    /// The 16 bytes of an IPv6 address in RFC 4291 §2.2 text form (`inet_pton(AF_INET6)`'s
    /// syntax: groups of 1–4 hex digits, at most one `::` standing for at least one zero group,
    /// an optional dotted-quad tail), or nil.
    public static func ipv6(_ text: some Collection<UInt8>) -> [UInt8]? {
        let bytes = Array(text)
        guard bytes.count >= 2, bytes.count <= 45 else { return nil }
        var elided: Int?
        var index = 0
        while index + 1 < bytes.count {
            if bytes[index] == colon && bytes[index + 1] == colon {
                guard elided == nil else { return nil }
                elided = index
                index += 2
            } else {
                index += 1
            }
        }
        func groups(_ part: ArraySlice<UInt8>, last: Bool) -> [UInt8]? {
            if part.isEmpty { return [] }
            var out: [UInt8] = []
            let fields = part.split(separator: colon, omittingEmptySubsequences: false)
            for (position, field) in fields.enumerated() {
                if last && position == fields.count - 1 && field.contains(dot) {
                    guard let quad = ipv4(field) else { return nil }
                    out += quad
                    continue
                }
                guard (1...4).contains(field.count) else { return nil }
                var value = 0
                for byte in field {
                    guard let digit = hexDigit(byte) else { return nil }
                    value = value << 4 | digit
                }
                out += [UInt8(value >> 8), UInt8(value & 0xFF)]
            }
            return out
        }
        if let elided {
            guard let head = groups(bytes[..<elided], last: false),
                  let tail = groups(bytes[(elided + 2)...], last: true),
                  head.count + tail.count <= 14 else { return nil }
            return head + Array(repeating: 0, count: 16 - head.count - tail.count) + tail
        }
        guard let all = groups(bytes[...], last: true), all.count == 16 else { return nil }
        return all
    }

    private static func hexDigit(_ byte: UInt8) -> Int? {
        switch byte {
        case 0x30...0x39: Int(byte - 0x30)
        case 0x61...0x66: Int(byte - 0x61 + 10)
        case 0x41...0x46: Int(byte - 0x41 + 10)
        default: nil
        }
    }
}
