/// Incremental, sans-IO parser for an HTTP/1.x response head (RFC 9112 §4, §5), used by the
/// WebSocket client to read the server's handshake answer.
///
/// Same design and limits as `HTTPRequestParser`: only the current line is buffered, each
/// byte is examined once, and bytes after the head (the first WebSocket frames may arrive in
/// the same read as the 101) are left to the caller. After `.complete` it is reset; after
/// `.failure` it stays failed.
public struct HTTPResponseParser {
    /// What one `parse` call produced.
    public enum Result: Equatable, Sendable {
        /// Every input byte was buffered; the head is not complete yet.
        case needMore
        /// The head is complete; `consumed` counts bytes of this call's input that belonged
        /// to it, the rest is the caller's.
        case complete(HTTPResponseHead, consumed: Int)
        /// The head is invalid (the client fails the connection, RFC 6455 §4.1).
        case failure(String)
    }

    /// Largest response head accepted, in bytes, counting every CR LF.
    public let maxHeadSize: Int

    private var reader: HTTPHeadReader
    private var statusLine: (version: HTTPVersion, status: HTTPStatus)?
    private var failed: String?

    /// A parser for one connection.
    public init(maxHeadSize: Int = 8192) {
        self.maxHeadSize = maxHeadSize
        reader = HTTPHeadReader(maxHeadSize: maxHeadSize)
    }

    /// Feeds the next bytes of the connection; see `HTTPRequestParser.parse(_:)`.
    public mutating func parse(_ bytes: UnsafeRawBufferPointer) -> Result {
        if let failed { return .failure(failed) }
        var index = 0
        while true {
            switch reader.step(bytes, at: &index) {
            case .needMore:
                return .needMore
            case .startLine:
                guard let parsed = reader.withStartLine(in: bytes, Self.parseStatusLine) else {
                    return fail("malformed status line")
                }
                statusLine = parsed
            case .complete:
                guard let line = statusLine else { return fail("no status line") }
                let head = HTTPResponseHead(status: line.status, headers: reader.headers, version: line.version)
                reader = HTTPHeadReader(maxHeadSize: maxHeadSize)
                statusLine = nil
                return .complete(head, consumed: index)
            case .failure(_, let message):
                return fail(message)
            }
        }
    }

    private mutating func fail(_ message: String) -> Result {
        failed = message
        return .failure(message)
    }

    /// Parses `status-line = HTTP-version SP status-code SP [ reason-phrase ]` (RFC 9112 §4).
    ///
    /// Tolerates a missing space after the code when the reason is empty, as RFC 9112 §4
    /// asks of clients for robustness; the reason may hold HTAB, SP, VCHAR and obs-text.
    static func parseStatusLine(_ line: UnsafeRawBufferPointer) -> (version: HTTPVersion, status: HTTPStatus)? {
        guard line.count >= 12 else { return nil }
        guard let version = HTTPHeadReader.parseVersion(UnsafeRawBufferPointer(rebasing: line[0..<8])), version.major == 1,
              line[8] == HTTPSyntax.space else { return nil }
        let digits = line[9..<12]
        guard digits.allSatisfy(HTTPSyntax.isDigit) else { return nil }
        let code = digits.reduce(0) { $0 * 10 + Int($1 - UInt8(ascii: "0")) }
        guard code >= 100 else { return nil }
        var reason = line[12...]
        if let first = reason.first {
            guard first == HTTPSyntax.space else { return nil }
            reason = reason.dropFirst()
        }
        guard !reason.contains(where: HTTPSyntax.isForbiddenInValue) else { return nil }
        return (version, HTTPStatus(code: code, reason: String(decoding: UnsafeRawBufferPointer(rebasing: reason), as: UTF8.self)))
    }
}

/// Owned by one event loop (STYLE.md, "what crosses a loop").
@available(*, unavailable)
extension HTTPResponseParser: Sendable {}
