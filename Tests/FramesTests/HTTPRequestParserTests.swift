import TestSupport
import Testing
@testable import Frames

/// The request head parser, every input fed whole, split at every point and one byte at a
/// time (`HTTPFeed`), all of which must agree.
struct HTTPRequestParserTests {
    static func parser() -> HTTPRequestParser { HTTPRequestParser() }

    /// The RFC 6455 §1.2 sample handshake.
    static let sampleHead = """
        GET /chat?room=1 HTTP/1.1\r
        Host: server.example.com\r
        Upgrade: websocket\r
        Connection: Upgrade\r
        Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r
        Origin: http://example.com\r
        Sec-WebSocket-Protocol: chat, superchat\r
        Sec-WebSocket-Version: 13\r
        \r

        """

    static let sampleRequest = HTTPRequest(
        method: "GET", target: "/chat?room=1", version: .http1_1,
        headers: HTTPHeaders([
            ("Host", "server.example.com"), ("Upgrade", "websocket"), ("Connection", "Upgrade"),
            ("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="), ("Origin", "http://example.com"),
            ("Sec-WebSocket-Protocol", "chat, superchat"), ("Sec-WebSocket-Version", "13"),
        ]))

    @Test func parsesRFC6455SampleHandshake() {
        let outcome = HTTPFeed.outcome(Self.parser, Self.sampleHead)
        #expect(outcome == .done(Self.sampleRequest, end: Self.sampleHead.utf8.count))
        if case .done(let request, _) = outcome {
            #expect(request.path == "/chat")
            #expect(request.query == "room=1")
            #expect(request.queryItem("room") == "1")
        }
    }

    @Test func acceptsBareLFLineEndings() {
        let head = Self.sampleHead.replacing("\r\n", with: "\n")
        #expect(HTTPFeed.outcome(Self.parser, head) == .done(Self.sampleRequest, end: head.utf8.count))
    }

    @Test func ignoresEmptyLinesBeforeRequestLine() {
        let head = "\r\n\n\r\n" + Self.sampleHead
        #expect(HTTPFeed.outcome(Self.parser, head) == .done(Self.sampleRequest, end: head.utf8.count))
    }

    /// Bytes after the head (here: a masked WebSocket frame) belong to the caller.
    @Test func leavesBytesAfterHeadToCaller() {
        let frame: [UInt8] = [0x81, 0x85, 0x37, 0xFA, 0x21, 0x3D, 0x7F, 0x9F, 0x4D, 0x51, 0x58]
        let input = Array(Self.sampleHead.utf8) + frame
        #expect(HTTPFeed.outcome(Self.parser, input) == .done(Self.sampleRequest, end: Self.sampleHead.utf8.count))
    }

    @Test func parsesHTTP10AndOtherMinorVersions() {
        let outcome = HTTPFeed.outcome(Self.parser, "GET / HTTP/1.0\r\n\r\n")
        #expect(outcome == .done(HTTPRequest(method: "GET", target: "/", version: .http1_0), end: 18))
        let later = HTTPFeed.outcome(Self.parser, "GET / HTTP/1.9\r\n\r\n")
        #expect(later == .done(HTTPRequest(method: "GET", target: "/", version: HTTPVersion(major: 1, minor: 9)), end: 18))
    }

    @Test func trimsOptionalWhitespaceAroundValues() {
        let head = "POST /publish/a HTTP/1.1\r\nHost:example.com\r\nX-A: \t spaced out \t \r\nX-Empty:\r\nX-Blank:   \r\n\r\n"
        let expected = HTTPRequest(method: "POST", target: "/publish/a", headers: HTTPHeaders([
            ("Host", "example.com"), ("X-A", "spaced out"), ("X-Empty", ""), ("X-Blank", ""),
        ]))
        #expect(HTTPFeed.outcome(Self.parser, head) == .done(expected, end: head.utf8.count))
    }

    /// RFC 9110 §5.5: obs-text (bytes 0x80–0xFF) is allowed in values; HTAB inside too.
    @Test func allowsObsTextAndTabInValues() {
        let head = Array("GET / HTTP/1.1\r\nX-Name: caf".utf8) + [0xC3, 0xA9, 0x09, 0x41] + Array("\r\n\r\n".utf8)
        let expected = HTTPRequest(method: "GET", target: "/", headers: HTTPHeaders([("X-Name", "café\tA")]))
        #expect(HTTPFeed.outcome(Self.parser, head) == .done(expected, end: head.count))
    }

    /// A malformed head gets one answer, whatever the chunking.
    @Test(arguments: [
        ("GET  / HTTP/1.1\r\n\r\n", 400), // two spaces
        ("GET / HTTP/1.1 \r\n\r\n", 400), // trailing space
        ("GET /a b HTTP/1.1\r\n\r\n", 400), // space in target
        ("GET\t/ HTTP/1.1\r\n\r\n", 400),
        ("GET / HTTP/2.0\r\n\r\n", 400),
        ("GET / HTTP/0.9\r\n\r\n", 400),
        ("GET / HTTP/1.10\r\n\r\n", 400),
        ("GET / http/1.1\r\n\r\n", 400), // HTTP-name is case-sensitive
        ("GET / HTTP/1\r\n\r\n", 400),
        ("GET / HTTP/1.x\r\n\r\n", 400),
        ("GET /\r\n\r\n", 400),
        ("GET\r\n\r\n", 400),
        ("G(T / HTTP/1.1\r\n\r\n", 400), // method must be a token
        (" GET / HTTP/1.1\r\n\r\n", 400),
        ("GET /\u{01} HTTP/1.1\r\n\r\n", 400),
        ("GET /caf\u{E9} HTTP/1.1\r\n\r\n", 400), // non-ASCII target
        ("GET / HTTP/1.1\r\nHost : x\r\n\r\n", 400), // RFC 9112 §5.1
        ("GET / HTTP/1.1\r\nHost\t: x\r\n\r\n", 400),
        ("GET / HTTP/1.1\r\n Host: x\r\n\r\n", 400), // whitespace before first field
        ("GET / HTTP/1.1\r\nX: a\r\n  b\r\n\r\n", 400), // obs-fold, RFC 9112 §5.2
        ("GET / HTTP/1.1\r\nX: a\r\n\tb\r\n\r\n", 400),
        ("GET / HTTP/1.1\r\nNoColon\r\n\r\n", 400),
        ("GET / HTTP/1.1\r\n: value\r\n\r\n", 400),
        ("GET / HTTP/1.1\r\nBad[Name]: x\r\n\r\n", 400),
        ("GET / HTTP/1.1\r\nX: a\u{00}b\r\n\r\n", 400),
        ("GET / HTTP/1.1\r\nX: a\rb\r\n\r\n", 400), // bare CR, RFC 9112 §2.2
        ("GET / HTTP/1.1\r\nX: a\u{7F}\r\n\r\n", 400),
        ("GET / HTTP/1.1\r\nX: a\u{1B}[31m\r\n\r\n", 400),
        ("GET / HTTP/1.1\r\r\n\r\n", 400), // CR CR LF
    ])
    func rejectsMalformedHead(head: String, status: Int) {
        let outcome = HTTPFeed.outcome(Self.parser, head)
        guard case .failed(let message) = outcome else {
            Issue.record("expected \(status), got \(outcome)")
            return
        }
        #expect(message.hasPrefix("\(status) "))
    }

    static func head(fieldCount: Int) -> String {
        "GET / HTTP/1.1\r\n" + (0..<fieldCount).map { "X-\($0): v\r\n" }.joined() + "\r\n"
    }

    @Test func acceptsOneHundredFields() {
        let outcome = HTTPFeed.outcome(Self.parser, Self.head(fieldCount: 100))
        guard case .done(let request, _) = outcome else {
            Issue.record("expected a request, got \(outcome)")
            return
        }
        #expect(request.headers.count == 100)
    }

    @Test func rejectsMoreThanOneHundredFieldsWith431() {
        #expect(HTTPFeed.outcome(Self.parser, Self.head(fieldCount: 101)) == .failed("431 more than 100 header fields"))
    }

    /// The limit counts every head byte, including the final CR LF and leading empty lines.
    @Test func enforcesMaxHeadSizeExactly() {
        let base = "GET / HTTP/1.1\r\nX: \r\n\r\n"
        let limit = 200
        let padding = String(repeating: "a", count: limit - base.utf8.count)
        let fits = "GET / HTTP/1.1\r\nX: \(padding)\r\n\r\n"
        #expect(fits.utf8.count == limit)
        let make = { HTTPRequestParser(maxHeadSize: limit) }
        let expected = HTTPRequest(method: "GET", target: "/", headers: HTTPHeaders([("X", padding)]))
        #expect(HTTPFeed.outcome(make, fits) == .done(expected, end: limit))
        #expect(HTTPFeed.outcome(make, "\r\n" + fits) == .failed("431 HTTP head exceeds 200 bytes"))
        let tooLong = "GET / HTTP/1.1\r\nX: \(padding)a\r\n\r\n"
        #expect(HTTPFeed.outcome(make, tooLong) == .failed("431 HTTP head exceeds 200 bytes"))
    }

    /// A client sending an endless request line or endless empty lines is cut off at the
    /// limit, before any line ends.
    @Test func cutsOffUnterminatedInputAtLimit() {
        var parser = HTTPRequestParser(maxHeadSize: 100)
        let line = [UInt8](repeating: UInt8(ascii: "a"), count: 101)
        #expect(line.withUnsafeBytes { parser.parse($0) } == .failure(.requestHeaderFieldsTooLarge, "HTTP head exceeds 100 bytes"))
        var blank = HTTPRequestParser(maxHeadSize: 100)
        let newlines = [UInt8](repeating: HTTPSyntax.lf, count: 101)
        #expect(newlines.withUnsafeBytes { blank.parse($0) } == .failure(.requestHeaderFieldsTooLarge, "HTTP head exceeds 100 bytes"))
    }

    /// After `.complete` the parser starts over, so pipelined requests parse in turn.
    @Test func parsesPipelinedRequestsInTurn() {
        let first = "GET /a HTTP/1.1\r\nHost: h\r\n\r\n"
        let second = "GET /b HTTP/1.1\r\nHost: h\r\n\r\n"
        let input = Array((first + second).utf8)
        var parser = HTTPRequestParser()
        let step1 = input.withUnsafeBytes { parser.parse($0) }
        #expect(step1 == .complete(HTTPRequest(method: "GET", target: "/a", headers: HTTPHeaders([("Host", "h")])),
                                   consumed: first.utf8.count))
        let step2 = input[first.utf8.count...].withUnsafeBytes { parser.parse($0) }
        #expect(step2 == .complete(HTTPRequest(method: "GET", target: "/b", headers: HTTPHeaders([("Host", "h")])),
                                   consumed: second.utf8.count))
    }

    @Test func failureIsSticky() {
        var parser = HTTPRequestParser()
        let bad = Array("GET / HTTP/3.0\r\n".utf8)
        let good = Array("GET / HTTP/1.1\r\n\r\n".utf8)
        let first = bad.withUnsafeBytes { parser.parse($0) }
        guard case .failure(let status, _) = first else {
            Issue.record("expected failure, got \(first)")
            return
        }
        #expect(status == .badRequest)
        #expect(good.withUnsafeBytes { parser.parse($0) } == first)
    }

    @Test func emptyInputNeedsMore() {
        var parser = HTTPRequestParser()
        #expect([UInt8]().withUnsafeBytes { parser.parse($0) } == .needMore)
        #expect(Array("GET / HT".utf8).withUnsafeBytes { parser.parse($0) } == .needMore)
    }

    /// Fuzz-style: random byte changes to a valid head must give the same result in every
    /// chunking and never crash (uWebSockets `fuzzing/helpers.h` chooses split points the
    /// same way). Reproducible: fixed seeds.
    @Test(arguments: 0..<200)
    func mutatedHeadsAgreeAcrossChunkings(seed: Int) {
        var random = SplitMix64(seed: UInt64(seed))
        var input = Array(Self.sampleHead.utf8)
        let interesting: [UInt8] = [0x0D, 0x0A, 0x20, 0x09, 0x3A, 0x00, 0x7F, 0x80, 0x2C, 0x41]
        for _ in 0..<Int.random(in: 1...4, using: &random) {
            let position = Int.random(in: 0..<input.count, using: &random)
            input[position] = Bool.random(using: &random)
                ? interesting.randomElement(using: &random)!
                : UInt8.random(in: 0...255, using: &random)
        }
        let whole = HTTPFeed.run(Self.parser, input, chunks: [input.count])
        #expect(HTTPFeed.run(Self.parser, input, chunks: Array(repeating: 1, count: input.count)) == whole)
        for _ in 0..<4 {
            var chunks: [Int] = []
            var left = input.count
            while left > 0 {
                let size = Int.random(in: 1...min(left, 40), using: &random)
                chunks.append(size)
                left -= size
            }
            #expect(HTTPFeed.run(Self.parser, input, chunks: chunks) == whole)
        }
    }
}

/// Guards the loop's reuse of an upgraded request's header storage: a head read into
/// recycled storage is the same request, in the same memory.
struct HTTPRequestParserStorageTests {
    static let heads = [
        "GET /bus HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n",
        "GET /x HTTP/1.1\r\nHost: a\r\nX-Long: \(String(repeating: "v", count: 300))\r\n\r\n",
    ]

    @Test func headReadIntoRecycledStorageIsTheSameRequest() throws {
        for head in Self.heads {
            var fresh = HTTPRequestParser()
            let expected = try #require(Self.request(fresh.parse(head)))
            var storage = expected.headers
            storage.removeAll(keepingCapacity: true)
            let capacity = storage.byteCapacity
            var recycled = HTTPRequestParser(storage: consume storage)
            let request = try #require(Self.request(recycled.parse(head)))
            #expect(request == expected)
            #expect(request.headers.byteCapacity == capacity, "no new storage for a head that fits")
        }
    }

    static func request(_ result: HTTPRequestParser.Result) -> HTTPRequest? {
        if case .complete(let request, _) = result { return request }
        return nil
    }
}

extension HTTPRequestParser {
    fileprivate mutating func parse(_ text: String) -> Result {
        Array(text.utf8).withUnsafeBytes { parse($0) }
    }
}
