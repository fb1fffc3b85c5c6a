/// An HTTP version `HTTP/major.minor` (RFC 9110 §2.5, RFC 9112 §2.3).
///
/// Comparable so the handshake can ask for "HTTP/1.1 or later" (RFC 6455 §4.2.1 item 1).
public struct HTTPVersion: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// The digit before the dot.
    public var major: Int
    /// The digit after the dot.
    public var minor: Int

    /// `HTTP/major.minor`.
    public init(major: Int, minor: Int) {
        self.major = major
        self.minor = minor
    }

    /// HTTP/1.1, the only version this broker speaks.
    public static let http1_1 = HTTPVersion(major: 1, minor: 1)
    /// HTTP/1.0: parsed, but refused by the WebSocket handshake.
    public static let http1_0 = HTTPVersion(major: 1, minor: 0)

    /// Orders by major, then minor.
    public static func < (lhs: HTTPVersion, rhs: HTTPVersion) -> Bool {
        (lhs.major, lhs.minor) < (rhs.major, rhs.minor)
    }

    /// `HTTP/1.1` as written on the wire.
    public var description: String { "HTTP/\(major).\(minor)" }
}
