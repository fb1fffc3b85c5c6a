/// A `ws://host[:port][/path][?query]` URL. `wss://` is refused with a hint: TLS ends at a
/// reverse proxy in front of the broker.
public struct WebSocketURL: Sendable, Equatable, CustomStringConvertible {
    public var host: String
    public var port: UInt16
    /// Path and query, starting with `/`.
    public var target: String

    /// Parses `text`; a URL without a path gets `defaultPath`.
    public init(_ text: String, defaultPath: String = "/") throws(WebSocketURLError) {
        guard text.hasPrefix("ws://") else {
            let hint = text.hasPrefix("wss://") ? " (TLS is terminated by a reverse proxy; use ws:// to reach the broker)" : ""
            throw WebSocketURLError("'\(text)' is not a ws:// URL\(hint)")
        }
        var rest = Substring(text.dropFirst(5))
        var authority = rest
        target = defaultPath
        if let slash = rest.firstIndex(where: { $0 == "/" || $0 == "?" }) {
            authority = rest[..<slash]
            rest = rest[slash...]
            target = rest.hasPrefix("?") ? defaultPath + rest : String(rest)
        }
        var hostPart = authority
        port = 80
        if authority.hasPrefix("[") {
            guard let close = authority.firstIndex(of: "]") else {
                throw WebSocketURLError("'\(text)' has an unterminated IPv6 address")
            }
            hostPart = authority[authority.index(after: authority.startIndex)..<close]
            let after = authority[authority.index(after: close)...]
            if after.hasPrefix(":") {
                guard let value = Self.port(after.dropFirst()) else { throw WebSocketURLError("'\(text)' has a bad port") }
                port = value
            }
        } else if let colon = authority.lastIndex(of: ":") {
            hostPart = authority[..<colon]
            guard let value = Self.port(authority[authority.index(after: colon)...]) else {
                throw WebSocketURLError("'\(text)' has a bad port")
            }
            port = value
        }
        guard !hostPart.isEmpty else { throw WebSocketURLError("'\(text)' has no host") }
        host = String(hostPart)
    }

    /// The `Host` header value (RFC 7230 §5.4), brackets kept for IPv6.
    public var hostHeader: String {
        let shown = host.contains(":") ? "[\(host)]" : host
        return port == 80 ? shown : "\(shown):\(port)"
    }

    public var description: String { "ws://\(hostHeader)\(target)" }

    /// Digits only, at most 65535: `UInt16(_: String)` would take `+80` and `-0`.
    static func port(_ text: Substring) -> UInt16? {
        DecimalNumber.unsigned(text).flatMap { UInt16(exactly: $0) }
    }
}

/// Why a ws:// URL was refused, in words for the person who typed it.
public struct WebSocketURLError: Error, Sendable, Equatable, CustomStringConvertible {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
