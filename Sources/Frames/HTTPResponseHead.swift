/// The head of an HTTP/1.x response: status line and header fields (RFC 9112 §4, §5).
///
/// Built by the server (`serialized()`, `simple(...)`) and parsed by the client
/// (`HTTPResponseParser`).
public struct HTTPResponseHead: Sendable, Equatable {
    /// Status code and reason phrase.
    public var status: HTTPStatus
    /// Header fields, serialized in order.
    public var headers: HTTPHeaders
    /// Protocol version of the status line.
    public var version: HTTPVersion

    /// A response head; the server always answers HTTP/1.1 (RFC 9110 §6.2).
    public init(status: HTTPStatus, headers: HTTPHeaders = HTTPHeaders(), version: HTTPVersion = .http1_1) {
        self.status = status
        self.headers = headers
        self.version = version
    }

    /// `status-line CRLF *(field-line CRLF) CRLF` (RFC 9112 §2.1, §4).
    ///
    /// CR, LF and NUL in a name, value or reason become spaces: a value that came from a
    /// request (an echoed subprotocol, an error message) can never inject a header line or end
    /// the head early (RFC 9110 §5.5 forbids those bytes in field values anyway).
    public func serialized() -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(64 + headers.count * 32)
        out += "\(version) \(status.code) ".utf8
        Self.appendSanitized(status.reason, to: &out)
        out += [HTTPSyntax.cr, HTTPSyntax.lf]
        for (name, value) in headers {
            Self.appendSanitized(name, to: &out)
            out += [HTTPSyntax.colon, HTTPSyntax.space]
            Self.appendSanitized(value, to: &out)
            out += [HTTPSyntax.cr, HTTPSyntax.lf]
        }
        out += [HTTPSyntax.cr, HTTPSyntax.lf]
        return out
    }

    /// A complete response with a text body, for errors and plain HTTP endpoints.
    ///
    /// Sends `Content-Type`, then `Content-Length` (RFC 9110 §8.6, so the client knows where
    /// the body ends without a close), then `headers` in order, then `Connection: close`
    /// unless `keepAlive` (RFC 9112 §9.6: the server closes after sending it).
    ///
    /// `contentLength` announces a body the caller writes after the returned bytes (`body`
    /// is then empty).
    public static func simple(_ status: HTTPStatus, body: String, contentType: String = "text/plain; charset=utf-8",
                              headers: [(String, String)] = [], keepAlive: Bool = false, contentLength: Int? = nil) -> [UInt8] {
        let bodyBytes = Array(body.utf8)
        var head = HTTPResponseHead(status: status)
        head.headers.add("Content-Type", contentType)
        head.headers.add("Content-Length", String(contentLength ?? bodyBytes.count))
        for (name, value) in headers { head.headers.add(name, value) }
        if !keepAlive { head.headers.add("Connection", "close") }
        return head.serialized() + bodyBytes
    }

    /// `simple` with a body already in bytes.
    public static func simple(_ status: HTTPStatus, bytes body: [UInt8], contentType: String,
                              headers: [(String, String)] = [], keepAlive: Bool = false) -> [UInt8] {
        simple(status, body: "", contentType: contentType, headers: headers, keepAlive: keepAlive, contentLength: body.count) + body
    }

    static func appendSanitized(_ text: String, to out: inout [UInt8]) {
        for byte in text.utf8 { out.append(sanitized(byte)) }
    }

    /// A byte of a name, value or reason as it may be sent: CR, LF and NUL become spaces.
    static func sanitized(_ byte: UInt8) -> UInt8 {
        byte == HTTPSyntax.cr || byte == HTTPSyntax.lf || byte == 0 ? HTTPSyntax.space : byte
    }
}
