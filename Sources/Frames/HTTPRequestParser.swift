/// Incremental, sans-IO parser for an HTTP/1.x request head (RFC 9112 §2–§5).
///
/// Feed it bytes as they arrive; it buffers only the current line and answers `.needMore`
/// until the empty line that ends the head. It is strict where a lax parser would let two
/// hops disagree about a message (request smuggling): whitespace before a field's colon,
/// obsolete line folding and control characters in values are 400. It is tolerant where
/// RFC 9112 allows: bare LF line endings and empty lines before the request line.
///
/// After `.complete` the parser is reset and ready for the next request on the connection
/// (HTTP/1.1 pipelining). After `.failure` it stays failed: the caller answers with the
/// status and closes, since the framing of anything that follows is unknown.
///
/// Owned by one event loop, so not `Sendable`.
public struct HTTPRequestParser {
    /// What one `parse` call produced.
    public enum Result: Equatable, Sendable {
        /// Every input byte was buffered; the head is not complete yet.
        case needMore
        /// The head is complete. `consumed` is how many bytes of this call's input belonged
        /// to it; the rest (a body, WebSocket frames, the next request) is the caller's.
        case complete(HTTPRequest, consumed: Int)
        /// The head is invalid; answer with this status and close the connection.
        case failure(HTTPStatus, String)
    }

    /// Largest request head accepted, in bytes, counting every CR LF; more is 431
    /// (RFC 6585 §5). 8 KiB matches nginx's default `large_client_header_buffers` and holds
    /// any WebSocket handshake with a bearer token.
    public let maxHeadSize: Int

    private var reader: HTTPHeadReader
    private var requestLine: (method: String, target: String, version: HTTPVersion)?
    private var failed: (HTTPStatus, String)?

    /// A parser for one connection. Its first head's fields go into `storage`'s memory (empty:
    /// the fields of a request done with, `removeAll(keepingCapacity: true)`), so they need
    /// no allocation of their own.
    public init(maxHeadSize: Int = 8192, storage: consuming HTTPHeaders = HTTPHeaders()) {
        self.maxHeadSize = maxHeadSize
        reader = HTTPHeadReader(maxHeadSize: maxHeadSize, storage: storage)
    }

    /// Feeds the next bytes of the connection.
    ///
    /// On `.complete`, `consumed` counts the bytes of *this call's* input that belonged to
    /// the head. Partial heads are buffered internally; a head larger than `maxHeadSize` is
    /// 431, and so is one with more than 100 field lines. Each byte is examined once, so any
    /// chunking of the input costs O(n) overall.
    public mutating func parse(_ bytes: UnsafeRawBufferPointer) -> Result {
        if let (status, message) = failed { return .failure(status, message) }
        var index = 0
        while true {
            switch reader.step(bytes, at: &index) {
            case .needMore:
                return .needMore
            case .startLine:
                switch reader.withStartLine(in: bytes, Self.parseRequestLine) {
                case .success(let parsed):
                    requestLine = parsed
                case .failure(let error):
                    return fail(.badRequest, error.message)
                }
            case .complete:
                // `.complete` always follows `.startLine`, which set `requestLine`.
                guard let line = requestLine.take() else { return fail(.internalServerError, "no request line") }
                let headers = reader.takeHeaders()
                reader = HTTPHeadReader(maxHeadSize: maxHeadSize)
                return .complete(HTTPRequest(method: line.method, target: line.target, version: line.version,
                                             headers: headers), consumed: index)
            case .failure(let status, let message):
                return fail(status, message)
            }
        }
    }

    private mutating func fail(_ status: HTTPStatus, _ message: String) -> Result {
        failed = (status, message)
        return .failure(status, message)
    }

    /// A request-line syntax error.
    struct LineError: Error {
        let message: String
        init(_ message: String) { self.message = message }
    }

    /// Parses `request-line = method SP request-target SP HTTP-version` (RFC 9112 §3).
    ///
    /// Single spaces only: RFC 9112 §3 lets a recipient split on any whitespace, but a strict
    /// split cannot disagree with an upstream proxy about where the target ends.
    static func parseRequestLine(_ line: UnsafeRawBufferPointer)
        -> Swift.Result<(method: String, target: String, version: HTTPVersion), LineError> {
        guard let firstSpace = line.firstIndex(of: HTTPSyntax.space),
              let lastSpace = line.lastIndex(of: HTTPSyntax.space), firstSpace != lastSpace else {
            return .failure(LineError("malformed request line"))
        }
        let method = UnsafeRawBufferPointer(rebasing: line[..<firstSpace])
        let target = UnsafeRawBufferPointer(rebasing: line[(firstSpace + 1)..<lastSpace])
        let version = UnsafeRawBufferPointer(rebasing: line[(lastSpace + 1)...])
        // RFC 9110 §9.1: the method is a token.
        guard HTTPSyntax.isToken(method) else {
            return .failure(LineError("invalid method"))
        }
        // RFC 9112 §3.2: no whitespace in the target; we also refuse controls and non-ASCII
        // (RFC 3986 §2: a URI is printable ASCII, anything else must be percent-encoded).
        guard !target.isEmpty, target.allSatisfy({ $0 >= 0x21 && $0 <= 0x7E }) else {
            return .failure(LineError("invalid request target"))
        }
        guard let parsedVersion = HTTPHeadReader.parseVersion(version) else {
            return .failure(LineError("invalid HTTP version"))
        }
        guard parsedVersion.major == 1 else {
            return .failure(LineError("unsupported HTTP version \(parsedVersion)"))
        }
        return .success((methodName(method), String(decoding: target, as: UTF8.self), parsedVersion))
    }

    /// The method as a string: `GET` (every upgrade) and `POST` as their literals, which cost
    /// nothing to make, others decoded.
    private static func methodName(_ method: UnsafeRawBufferPointer) -> String {
        if HTTPSyntax.equals(method, "GET") { return "GET" }
        if HTTPSyntax.equals(method, "POST") { return "POST" }
        return String(decoding: method, as: UTF8.self)
    }
}

/// Owned by one event loop (STYLE.md, "what crosses a loop").
@available(*, unavailable)
extension HTTPRequestParser: Sendable {}
