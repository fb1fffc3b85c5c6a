/// `nats://HOST[:PORT]` (port 4222 when absent). TLS (`tls://`) and credentials in the URL are
/// not supported: the backplane is expected on a private network.
public struct NATSServerURL: Sendable, Equatable, CustomStringConvertible {
    public static let defaultPort: UInt16 = 4222
    public let host: String
    public let port: UInt16

    public init?(_ text: String) {
        guard text.hasPrefix("nats://") else { return nil }
        var rest = Substring(text.dropFirst("nats://".count))
        if rest.hasSuffix("/") { rest = rest.dropLast() }
        guard !rest.isEmpty, !rest.contains("@"), !rest.contains("/") else { return nil }
        var host = rest
        var port = Self.defaultPort
        if rest.hasPrefix("[") {  // [IPv6]:port
            guard let close = rest.firstIndex(of: "]") else { return nil }
            host = rest[rest.index(after: rest.startIndex)..<close]
            let after = rest[rest.index(after: close)...]
            if !after.isEmpty {
                guard after.hasPrefix(":"), let value = Self.port(after.dropFirst()) else { return nil }
                port = value
            }
        } else if let colon = rest.lastIndex(of: ":") {
            guard let value = Self.port(rest[rest.index(after: colon)...]) else { return nil }
            host = rest[..<colon]
            port = value
        }
        guard !host.isEmpty, port != 0 else { return nil }
        self.host = String(host)
        self.port = port
    }

    /// Digits only: `UInt16(_: String)` would take `+4222`.
    static func port(_ text: Substring) -> UInt16? {
        guard !text.isEmpty, text.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else { return nil }
        return UInt16(text)
    }

    public var description: String { host.contains(":") ? "nats://[\(host)]:\(port)" : "nats://\(host):\(port)" }
}
