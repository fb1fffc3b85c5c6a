/// The part of HTTP/1.x head parsing that requests and responses share (RFC 9112 §2.1, §2.2,
/// §5): splitting lines, the size and field-count limits, and header field lines. The start
/// line is handed back to the owning parser (`HTTPRequestParser`, `HTTPResponseParser`).
///
/// Each input byte is looked at once and only the current line is buffered, so feeding a
/// head in any chunking costs O(n) in total: nothing is rescanned from the start.
struct HTTPHeadReader {
    /// What the reader needs from its owner next.
    enum Step: Equatable {
        /// All input so far is consumed; the head is not complete.
        case needMore
        /// The start line (without its CR LF) is ready: the owner reads it with
        /// `withStartLine(in:_:)`, then calls `step` again with the same input and index.
        case startLine
        /// The empty line ending the head was consumed; the fields are in `headers`.
        case complete
        /// The head is invalid.
        case failure(HTTPStatus, String)
    }

    /// Most header field lines accepted; more is 431 (RFC 6585 §5). 100 is what nginx and
    /// Node allow by default; a WebSocket handshake needs about ten.
    static let maxFieldCount = 100

    /// Head bytes allowed, counting leading empty lines and every CR LF.
    let maxHeadSize: Int
    /// The current line when it arrived in pieces, without its terminating LF (and CR once
    /// complete).
    private(set) var line: [UInt8] = []
    /// Where the start line lies in the input of the step that returned `.startLine`, when
    /// it came whole (nearly always): read there instead of copied into `line`.
    private var startLineRange: Range<Int>?
    /// Header fields read so far.
    private(set) var headers = HTTPHeaders()
    private var headBytes = 0
    private var sawStartLine = false
    /// `line` holds the start line the owner has been given; drop it on the next step.
    private var lineIsStartLine = false

    /// A reader whose fields go into `storage`, which must be empty (its capacity is what
    /// is wanted).
    init(maxHeadSize: Int, storage: consuming HTTPHeaders = HTTPHeaders()) {
        precondition(storage.isEmpty, "a head is read into empty fields")
        self.maxHeadSize = maxHeadSize
        headers = storage
    }

    /// The fields read, moved out (the reader is done with them once `.complete`).
    mutating func takeHeaders() -> HTTPHeaders {
        var taken = HTTPHeaders()
        swap(&taken, &headers)
        return taken
    }

    /// Calls `body` with the start line after `step` returned `.startLine`; `bytes` is that
    /// step's input. Mutating only so that the owner lends its reader in place: a
    /// non-mutating call copied the reader, its arrays retained and released, every request.
    mutating func withStartLine<R>(in bytes: UnsafeRawBufferPointer, _ body: (UnsafeRawBufferPointer) -> R) -> R {
        if let startLineRange { return body(UnsafeRawBufferPointer(rebasing: bytes[startLineRange])) }
        return line.withUnsafeBytes(body)
    }

    /// Consumes `bytes` from `index` up to the next event, advancing `index`.
    mutating func step(_ bytes: UnsafeRawBufferPointer, at index: inout Int) -> Step {
        startLineRange = nil
        if lineIsStartLine {
            line.removeAll(keepingCapacity: true)
            lineIsStartLine = false
        }
        while index < bytes.count {
            // Up to the next LF in one piece: a handshake is a dozen lines, not 300 appends.
            let end = HTTPSyntax.firstLF(in: bytes, from: index)
            let endsLine = end < bytes.count
            if headBytes + (end - index) + (endsLine ? 1 : 0) > maxHeadSize {
                return .failure(.requestHeaderFieldsTooLarge, "HTTP head exceeds \(maxHeadSize) bytes")
            }
            headBytes += end - index
            if endsLine && line.isEmpty {
                // A whole line in this input (nearly every one): read where it lies instead
                // of copied into `line` first. The same rules as below.
                var stop = end
                if stop > index && bytes[stop - 1] == HTTPSyntax.cr { stop -= 1 }
                let start = index
                index = end + 1
                headBytes += 1
                if !sawStartLine {
                    if stop == start { continue }
                    sawStartLine = true
                    startLineRange = start..<stop
                    return .startLine
                }
                if stop == start { return .complete }
                if let failure = readField(UnsafeRawBufferPointer(rebasing: bytes[start..<stop])) { return failure }
                continue
            }
            if line.capacity == 0 { line.reserveCapacity(min(maxHeadSize, 256)) }
            line.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[index..<end]))
            index = end
            guard endsLine else { break }
            index += 1
            headBytes += 1
            // RFC 9112 §2.2: CR LF ends a line, and a bare LF is accepted too. A bare CR
            // elsewhere stays in the line and is rejected as a control character.
            if line.last == HTTPSyntax.cr { line.removeLast() }
            if !sawStartLine {
                // RFC 9112 §2.2: ignore empty lines received before the start line.
                if line.isEmpty { continue }
                sawStartLine = true
                lineIsStartLine = true
                return .startLine
            }
            if line.isEmpty { return .complete }
            if let failure = line.withUnsafeBytes({ readField($0) }) { return failure }
            line.removeAll(keepingCapacity: true)
        }
        return .needMore
    }

    /// Parses `line` (not empty) as `field-line = field-name ":" OWS field-value OWS`
    /// (RFC 9112 §5).
    private mutating func readField(_ line: UnsafeRawBufferPointer) -> Step? {
        if HTTPSyntax.isWhitespace(line[0]) {
            // RFC 9112 §5.2: a server must reject obs-fold with 400 (or unfold it); §2.2:
            // whitespace before the first field may be rejected the same way.
            return .failure(.badRequest, "obsolete line folding in header")
        }
        if headers.isEmpty { headers.reserveCapacity(16, bytes: min(maxHeadSize, 512)) }
        if headers.count >= Self.maxFieldCount {
            return .failure(.requestHeaderFieldsTooLarge, "more than \(Self.maxFieldCount) header fields")
        }
        // The name and the colon in one pass: a colon is not a token character, so in a
        // valid line the first byte that is not one is the colon.
        var colon = 0
        HTTPSyntax.tokenTable.withUnsafeBufferPointer { isToken in
            while colon < line.count && isToken[Int(line[colon])] != 0 { colon += 1 }
        }
        guard colon > 0, colon < line.count, line[colon] == HTTPSyntax.colon else { return Self.nameFailure(line) }
        var (from, to) = (colon + 1, line.count)
        while from < to && HTTPSyntax.isWhitespace(line[from]) { from += 1 }
        while to > from && HTTPSyntax.isWhitespace(line[to - 1]) { to -= 1 }
        if HTTPSyntax.containsForbiddenInValue(UnsafeRawBufferPointer(rebasing: line[from..<to])) {
            return .failure(.badRequest, "control character in header value")
        }
        headers.add(line: UnsafeRawBufferPointer(rebasing: line[..<to]), nameEnd: colon, valueStart: from)
        return nil
    }

    /// Why a line's name is not a `token` followed by a colon.
    private static func nameFailure(_ line: UnsafeRawBufferPointer) -> Step {
        guard let colon = line.firstIndex(of: HTTPSyntax.colon) else {
            return .failure(.badRequest, "header line without a colon")
        }
        if colon > 0 && HTTPSyntax.isWhitespace(line[colon - 1]) {
            // RFC 9112 §5.1: whitespace before the colon must be rejected with 400.
            return .failure(.badRequest, "whitespace between header name and colon")
        }
        return .failure(.badRequest, "invalid header name")
    }

    /// Parses `HTTP-version = "HTTP/" DIGIT "." DIGIT` (RFC 9112 §2.3; case-sensitive).
    static func parseVersion(_ bytes: UnsafeRawBufferPointer) -> HTTPVersion? {
        guard bytes.count == 8, HTTPSyntax.equals(UnsafeRawBufferPointer(rebasing: bytes[..<5]), "HTTP/") else { return nil }
        let major = bytes[5]
        let dot = bytes[6]
        let minor = bytes[7]
        guard HTTPSyntax.isDigit(major), dot == UInt8(ascii: "."), HTTPSyntax.isDigit(minor) else {
            return nil
        }
        return HTTPVersion(major: Int(major - UInt8(ascii: "0")), minor: Int(minor - UInt8(ascii: "0")))
    }
}
