/// Why an HTTP request or WebSocket handshake was refused, as the HTTP answer to send.
///
/// Each refusal maps to one status (RFC 6455 §4.2.1, §4.4; RFC 9112 §6); `extraHeaders`
/// carries what that status requires: `Allow: GET` with 405 (RFC 9110 §15.5.6),
/// `Upgrade: websocket` with 426 (RFC 9110 §15.5.22) and `Sec-WebSocket-Version: 13` when
/// the version is wrong (RFC 6455 §4.4). Client-side checks (`ClientHandshake.validate`) use
/// the status the server answered with.
public struct HandshakeError: Error, Equatable, Sendable, CustomStringConvertible {
    /// Status to answer with.
    public let status: HTTPStatus
    /// Human-readable reason, sent as the body.
    public let message: String
    /// Headers the status requires; not part of equality.
    public var extraHeaders: [(String, String)]

    /// A refusal with the given status and message.
    public init(status: HTTPStatus, message: String, extraHeaders: [(String, String)] = []) {
        self.status = status
        self.message = message
        self.extraHeaders = extraHeaders
    }

    /// The full HTTP response: `message` as a text body, `extraHeaders`, `Connection: close`.
    public func response() -> [UInt8] {
        HTTPResponseHead.simple(status, body: message + "\n", headers: extraHeaders)
    }

    /// Equal when status and message are; the extra headers follow from those.
    public static func == (lhs: HandshakeError, rhs: HandshakeError) -> Bool {
        lhs.status == rhs.status && lhs.message == rhs.message
    }

    /// `400 Bad Request: missing Host header`.
    public var description: String { "\(status): \(message)" }
}
