/// A response status code and its reason phrase (RFC 9110 §15).
///
/// Only the codes the broker sends are named; the reason phrases are the RFC 9110 ones.
public struct HTTPStatus: Sendable, Equatable, Hashable, CustomStringConvertible {
    /// Three-digit status code.
    public let code: Int
    /// Reason phrase sent after the code; informational only (RFC 9112 §4).
    public let reason: String

    /// A status with the given code and phrase.
    public init(code: Int, reason: String) {
        self.code = code
        self.reason = reason
    }

    /// 101: the WebSocket handshake succeeded (RFC 9110 §15.2.2, RFC 6455 §4.2.2).
    public static let switchingProtocols = HTTPStatus(code: 101, reason: "Switching Protocols")
    /// 200 (RFC 9110 §15.3.1).
    public static let ok = HTTPStatus(code: 200, reason: "OK")
    /// 204: a CORS preflight's answer (RFC 9110 §15.3.5): headers, never a body.
    public static let noContent = HTTPStatus(code: 204, reason: "No Content")
    /// 400: malformed request or handshake (RFC 9110 §15.5.1).
    public static let badRequest = HTTPStatus(code: 400, reason: "Bad Request")
    /// 401: missing or invalid credentials (RFC 9110 §15.5.2).
    public static let unauthorized = HTTPStatus(code: 401, reason: "Unauthorized")
    /// 403: credentials valid but not allowed (RFC 9110 §15.5.4).
    public static let forbidden = HTTPStatus(code: 403, reason: "Forbidden")
    /// 404 (RFC 9110 §15.5.5).
    public static let notFound = HTTPStatus(code: 404, reason: "Not Found")
    /// 405: sent with `Allow` (RFC 9110 §15.5.6).
    public static let methodNotAllowed = HTTPStatus(code: 405, reason: "Method Not Allowed")
    /// 413: body over the configured limit (RFC 9110 §15.5.14).
    public static let payloadTooLarge = HTTPStatus(code: 413, reason: "Content Too Large")
    /// 426: sent with `Upgrade` or `Sec-WebSocket-Version` (RFC 9110 §15.5.22, RFC 6455 §4.4).
    public static let upgradeRequired = HTTPStatus(code: 426, reason: "Upgrade Required")
    /// 429: rate limited (RFC 6585 §4).
    public static let tooManyRequests = HTTPStatus(code: 429, reason: "Too Many Requests")
    /// 431: request head over the size or field-count limit (RFC 6585 §5).
    public static let requestHeaderFieldsTooLarge =
        HTTPStatus(code: 431, reason: "Request Header Fields Too Large")
    /// 500 (RFC 9110 §15.6.1).
    public static let internalServerError = HTTPStatus(code: 500, reason: "Internal Server Error")
    /// 501: a transfer coding we do not implement (RFC 9112 §6.1, RFC 9110 §15.6.2).
    public static let notImplemented = HTTPStatus(code: 501, reason: "Not Implemented")
    /// 503: shutting down or over the connection limit (RFC 9110 §15.6.4).
    public static let serviceUnavailable = HTTPStatus(code: 503, reason: "Service Unavailable")

    /// `101 Switching Protocols`.
    public var description: String { "\(code) \(reason)" }
}
