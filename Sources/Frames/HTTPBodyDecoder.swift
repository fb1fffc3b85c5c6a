/// Sans-IO decoder for a request body framed by `Content-Length` or chunked transfer coding
/// (RFC 9112 §6, §7.1), for plain HTTP endpoints such as `POST /publish/<topic>`.
///
/// Choose the framing with `framing(for:maxBodySize:)` once the head is parsed, then feed the
/// bytes that follow the head. The decoder stops at the end of the body, so bytes of a
/// pipelined next request are never swallowed. The body is collected whole (bounded by
/// `maxBodySize`) because a publish is one message.
///
/// Owned by one event loop, so not `Sendable`.
public struct HTTPBodyDecoder {
    /// How the body's end is found (RFC 9112 §6.3).
    public enum Framing: Sendable, Equatable {
        /// No body (a request with neither `Content-Length` nor `Transfer-Encoding`, §6.3 item 7).
        case none
        /// Exactly this many bytes (§6.3 item 6, RFC 9110 §8.6).
        case contentLength(Int)
        /// `Transfer-Encoding: chunked` (§7.1).
        case chunked
    }

    /// What one `decode` call produced.
    public enum DecodeResult: Sendable, Equatable {
        /// The body is not complete. `consumed` is always the whole input: partial chunk
        /// lines are buffered inside the decoder.
        case needMore(consumed: Int)
        /// The body is complete; `consumed` bytes of this input belonged to it, the rest is the
        /// next request's.
        case complete(body: [UInt8], consumed: Int)
        /// The body is malformed (400) or too large (413); answer and close.
        case failure(HTTPStatus, String)
    }

    /// Longest chunk-size line (with extensions) or trailer line accepted. Extensions are
    /// ignored, so this only bounds the buffering a client can cause.
    static let maxLineLength = 4096
    /// Most trailer section bytes accepted before 431; trailers are read and discarded.
    static let maxTrailerSize = 8192

    private enum State {
        case fixed(remaining: Int)
        case chunkSizeLine
        case chunkData(remaining: Int)
        case chunkDataEnd
        case trailer(bytes: Int)
        case done
        case failed(HTTPStatus, String)
    }

    /// Largest body accepted; larger is 413 (RFC 9110 §15.5.14).
    public let maxBodySize: Int
    private var state: State
    private var body: [UInt8] = []
    private var line: [UInt8] = []

    /// Picks the framing for `request` (RFC 9112 §6.1, §6.3), refusing ambiguous framing that
    /// could let two hops split the stream differently (request smuggling, §6.3 item 3):
    /// - `Transfer-Encoding` with `Content-Length`, or in an HTTP/1.0 request: 400;
    /// - `Transfer-Encoding` whose last coding is not `chunked`, or `chunked` twice: 400;
    ///   other codings before `chunked` (we decode none): 501;
    /// - `Content-Length` that is not digits, or lines/list members that differ: 400
    ///   (identical repeats are allowed, RFC 9110 §8.6);
    /// - `Content-Length` over `maxBodySize`: 413.
    public static func framing(for request: HTTPRequest, maxBodySize: Int) -> Result<Framing, HandshakeError> {
        let headers = request.headers
        let hasLength = headers.contains("Content-Length")
        if headers.contains("Transfer-Encoding") {
            if hasLength {
                return .failure(HandshakeError(status: .badRequest,
                                               message: "both Transfer-Encoding and Content-Length"))
            }
            if request.version < .http1_1 {
                return .failure(HandshakeError(status: .badRequest, message: "Transfer-Encoding in HTTP/1.0"))
            }
            let codings = headers.tokens("Transfer-Encoding")
            guard codings.last == "chunked", codings.filter({ $0 == "chunked" }).count == 1 else {
                return .failure(HandshakeError(status: .badRequest,
                                               message: "Transfer-Encoding must end with chunked, once"))
            }
            guard codings.count == 1 else {
                return .failure(HandshakeError(status: .notImplemented,
                                               message: "unsupported transfer coding \(codings[0])"))
            }
            return .success(.chunked)
        }
        guard hasLength else { return .success(.none) }
        var length: Int?
        for value in headers.values("Content-Length") {
            for member in value.split(separator: ",", omittingEmptySubsequences: false) {
                let digits = HTTPSyntax.trimmed(member).utf8
                guard !digits.isEmpty, digits.allSatisfy(HTTPSyntax.isDigit) else {
                    return .failure(HandshakeError(status: .badRequest, message: "invalid Content-Length"))
                }
                // Saturate instead of overflowing: anything past Int.max is over any limit.
                let parsed = digits.reduce(0) { total, digit in
                    let (times, overflow1) = total.multipliedReportingOverflow(by: 10)
                    let (sum, overflow2) = times.addingReportingOverflow(Int(digit - UInt8(ascii: "0")))
                    return overflow1 || overflow2 ? Int.max : sum
                }
                if let length, length != parsed {
                    return .failure(HandshakeError(status: .badRequest, message: "conflicting Content-Length values"))
                }
                length = parsed
            }
        }
        guard let length else {
            return .failure(HandshakeError(status: .badRequest, message: "invalid Content-Length"))
        }
        guard length <= maxBodySize else {
            return .failure(HandshakeError(status: .payloadTooLarge,
                                           message: "body exceeds \(maxBodySize) bytes"))
        }
        return .success(.contentLength(length))
    }

    /// A decoder for one body. A `.contentLength` over `maxBodySize` fails on the first
    /// `decode` with 413, as `framing(for:maxBodySize:)` would have.
    public init(framing: Framing, maxBodySize: Int) {
        self.maxBodySize = maxBodySize
        switch framing {
        case .none:
            state = .done
        case .contentLength(let length) where length > maxBodySize:
            state = .failed(.payloadTooLarge, "body exceeds \(maxBodySize) bytes")
        case .contentLength(let length) where length < 0:
            state = .failed(.badRequest, "invalid Content-Length")
        case .contentLength(let length):
            state = length == 0 ? .done : .fixed(remaining: length)
            // Reserve at most 64 KiB up front: the length is only a claim until bytes arrive.
            body.reserveCapacity(min(length, 65_536))
        case .chunked:
            state = .chunkSizeLine
        }
    }

    /// Feeds the bytes following the head (or the previous call's input).
    ///
    /// Once complete, further calls return the same body with `consumed: 0`; once failed,
    /// the same failure.
    public mutating func decode(_ bytes: UnsafeRawBufferPointer) -> DecodeResult {
        var index = 0
        while true {
            switch state {
            case .done:
                return .complete(body: body, consumed: index)
            case .failed(let status, let message):
                return .failure(status, message)
            case .fixed(let remaining):
                let take = min(remaining, bytes.count - index)
                body += bytes[index..<(index + take)]
                index += take
                state = remaining == take ? .done : .fixed(remaining: remaining - take)
                if remaining != take { return .needMore(consumed: index) }
            case .chunkData(let remaining):
                let take = min(remaining, bytes.count - index)
                body += bytes[index..<(index + take)]
                index += take
                if remaining != take {
                    state = .chunkData(remaining: remaining - take)
                    return .needMore(consumed: index)
                }
                state = .chunkDataEnd
            case .chunkSizeLine, .chunkDataEnd, .trailer:
                guard readLine(bytes, at: &index) else {
                    if case .failed = state { continue }
                    return .needMore(consumed: index)
                }
                handleLine()
                line.removeAll(keepingCapacity: true)
            }
        }
    }

    /// Moves bytes into `line` up to and including the next LF. True when a whole line (CR LF
    /// or bare LF stripped, RFC 9112 §2.2) is in `line`; false when the input ran out or the
    /// line grew past `maxLineLength` (then `state` is failed).
    private mutating func readLine(_ bytes: UnsafeRawBufferPointer, at index: inout Int) -> Bool {
        while index < bytes.count {
            let byte = bytes[index]
            index += 1
            if case .trailer(let size) = state {
                guard size < Self.maxTrailerSize else {
                    state = .failed(.requestHeaderFieldsTooLarge, "trailer section exceeds \(Self.maxTrailerSize) bytes")
                    return false
                }
                state = .trailer(bytes: size + 1)
            }
            if byte == HTTPSyntax.lf {
                if line.last == HTTPSyntax.cr { line.removeLast() }
                return true
            }
            guard line.count < Self.maxLineLength else {
                state = .failed(.badRequest, "chunk line too long")
                return false
            }
            line.append(byte)
        }
        return false
    }

    /// Acts on a complete line in the chunk-size, after-data or trailer state.
    private mutating func handleLine() {
        switch state {
        case .chunkSizeLine:
            state = parseChunkSize()
        case .chunkDataEnd:
            // chunk = chunk-size [ chunk-ext ] CRLF chunk-data CRLF (§7.1)
            state = line.isEmpty ? .chunkSizeLine : .failed(.badRequest, "missing CRLF after chunk data")
        case .trailer:
            // trailer-section = *( field-line CRLF ), ended by an empty line (§7.1.2).
            // Trailers are discarded (§7.1.2 allows it); only gross garbage is refused.
            if line.isEmpty {
                state = .done
            } else if line.contains(where: HTTPSyntax.isForbiddenInValue) || !line.contains(HTTPSyntax.colon) {
                state = .failed(.badRequest, "malformed trailer field")
            }
        default:
            break
        }
    }

    /// Parses `chunk-size [ chunk-ext ]` (§7.1, §7.1.1): hex digits, then optional
    /// `BWS ";" ...` extensions, which are ignored but must hold no control characters.
    private func parseChunkSize() -> State {
        var size = 0
        var index = 0
        while index < line.count, let digit = HTTPSyntax.hexValue(line[index]) {
            // Check per digit so a long run of digits (or leading zeros) can never overflow.
            let (times, overflow1) = size.multipliedReportingOverflow(by: 16)
            let (sum, overflow2) = times.addingReportingOverflow(digit)
            size = sum
            if overflow1 || overflow2 || size > maxBodySize - body.count {
                return .failed(.payloadTooLarge, "body exceeds \(maxBodySize) bytes")
            }
            index += 1
        }
        guard index > 0 else { return .failed(.badRequest, "invalid chunk size") }
        let rest = line[index...].drop(while: HTTPSyntax.isWhitespace)
        if let first = rest.first {
            guard first == UInt8(ascii: ";"), !rest.contains(where: HTTPSyntax.isForbiddenInValue) else {
                return .failed(.badRequest, "invalid chunk extension")
            }
        }
        return size == 0 ? .trailer(bytes: 0) : .chunkData(remaining: size)
    }
}

/// Owned by one event loop (STYLE.md, "what crosses a loop").
@available(*, unavailable)
extension HTTPBodyDecoder: Sendable {}
