import Testing
@testable import Frames

/// Body framing choice (RFC 9112 §6) and decoding of Content-Length and chunked bodies, every
/// input fed in every chunking.
struct HTTPBodyDecoderTests {
    static func post(_ headers: [(String, String)], version: HTTPVersion = .http1_1) -> HTTPRequest {
        HTTPRequest(method: "POST", target: "/publish/t", version: version, headers: HTTPHeaders(headers))
    }

    // MARK: Framing

    @Test(arguments: [
        ([], HTTPBodyDecoder.Framing.none),
        ([("Content-Length", "0")], .contentLength(0)),
        ([("Content-Length", "42")], .contentLength(42)),
        ([("content-length", " 007 ")], .contentLength(7)),
        ([("Content-Length", "5"), ("Content-Length", "5")], .contentLength(5)),
        ([("Content-Length", "5, 5")], .contentLength(5)),
        ([("Content-Length", "100")], .contentLength(100)),
        ([("Transfer-Encoding", "chunked")], .chunked),
        ([("transfer-encoding", "Chunked")], .chunked),
    ] as [([(String, String)], HTTPBodyDecoder.Framing)])
    func choosesFraming(headers: [(String, String)], framing: HTTPBodyDecoder.Framing) throws {
        #expect(try HTTPBodyDecoder.framing(for: Self.post(headers), maxBodySize: 100).get() == framing)
    }

    @Test(arguments: [
        ([("Content-Length", "5"), ("Transfer-Encoding", "chunked")], 400),
        ([("Transfer-Encoding", "chunked"), ("Content-Length", "5")], 400),
        ([("Transfer-Encoding", "gzip")], 400), // final coding must be chunked
        ([("Transfer-Encoding", "chunked, gzip")], 400),
        ([("Transfer-Encoding", "chunked, chunked")], 400),
        ([("Transfer-Encoding", "chunked"), ("Transfer-Encoding", "chunked")], 400),
        ([("Transfer-Encoding", "")], 400),
        ([("Transfer-Encoding", "gzip, chunked")], 501),
        ([("Transfer-Encoding", "identity"), ("Transfer-Encoding", "chunked")], 501),
        ([("Content-Length", "")], 400),
        ([("Content-Length", "-1")], 400),
        ([("Content-Length", "+5")], 400),
        ([("Content-Length", "5a")], 400),
        ([("Content-Length", "0x10")], 400),
        ([("Content-Length", "5,")], 400),
        ([("Content-Length", "5, 6")], 400),
        ([("Content-Length", "5"), ("Content-Length", "6")], 400),
        ([("Content-Length", "101")], 413),
        ([("Content-Length", "99999999999999999999999999")], 413),
    ] as [([(String, String)], Int)])
    func refusesAmbiguousOrOversizedFraming(headers: [(String, String)], status: Int) {
        switch HTTPBodyDecoder.framing(for: Self.post(headers), maxBodySize: 100) {
        case .success(let framing): Issue.record("accepted as \(framing)")
        case .failure(let error): #expect(error.status.code == status, "\(error.message)")
        }
    }

    /// RFC 9112 §6.1: Transfer-Encoding in an HTTP/1.0 request means faulty framing.
    @Test func refusesTransferEncodingInHTTP10() {
        let result = HTTPBodyDecoder.framing(for: Self.post([("Transfer-Encoding", "chunked")], version: .http1_0),
                                             maxBodySize: 100)
        #expect(result == .failure(HandshakeError(status: .badRequest, message: "Transfer-Encoding in HTTP/1.0")))
    }

    // MARK: Content-Length

    @Test func decodesContentLengthBodyAndLeavesPipelinedBytes() {
        let make = { HTTPBodyDecoder(framing: .contentLength(11), maxBodySize: 100) }
        let input = Array("hello world".utf8) + Array("GET / HTTP/1.1\r\n".utf8)
        #expect(HTTPFeed.outcome(make, input) == .done(Array("hello world".utf8), end: 11))
    }

    @Test func shortContentLengthBodyNeedsMore() {
        let make = { HTTPBodyDecoder(framing: .contentLength(11), maxBodySize: 100) }
        #expect(HTTPFeed.outcome(make, "hello") == .needMore)
    }

    @Test func noneAndZeroLengthCompleteAtOnce() {
        for framing in [HTTPBodyDecoder.Framing.none, .contentLength(0)] {
            var decoder = HTTPBodyDecoder(framing: framing, maxBodySize: 100)
            #expect([UInt8]().withUnsafeBytes { decoder.decode($0) } == .complete(body: [], consumed: 0))
            #expect(Array("GET".utf8).withUnsafeBytes { decoder.decode($0) } == .complete(body: [], consumed: 0))
        }
    }

    @Test func contentLengthOverLimitFailsInDecoderToo() {
        var decoder = HTTPBodyDecoder(framing: .contentLength(101), maxBodySize: 100)
        #expect([UInt8]().withUnsafeBytes { decoder.decode($0) } == .failure(.payloadTooLarge, "body exceeds 100 bytes"))
    }

    @Test func completedDecoderReturnsSameBodyConsumingNothing() {
        var decoder = HTTPBodyDecoder(framing: .contentLength(2), maxBodySize: 100)
        #expect(Array("hi!".utf8).withUnsafeBytes { decoder.decode($0) } == .complete(body: Array("hi".utf8), consumed: 2))
        #expect(Array("more".utf8).withUnsafeBytes { decoder.decode($0) } == .complete(body: Array("hi".utf8), consumed: 0))
    }

    // MARK: Chunked

    static func chunked() -> HTTPBodyDecoder { HTTPBodyDecoder(framing: .chunked, maxBodySize: 32) }

    @Test(arguments: [
        ("5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n", "hello world"),
        ("0\r\n\r\n", ""),
        ("000\r\n\r\n", ""),
        ("a\r\n0123456789\r\n0\r\n\r\n", "0123456789"),
        ("A\r\n0123456789\r\n00\r\n\r\n", "0123456789"),
        ("5;name=value\r\nhello\r\n0;last\r\n\r\n", "hello"),
        ("5 ; a=\"quoted; ok\"\r\nhello\r\n0\r\n\r\n", "hello"),
        ("5\nhello\n0\n\n", "hello"), // bare LF, RFC 9112 §2.2
        ("5\r\nhello\r\n0\r\nExpires: never\r\nX-Trailer: 1\r\n\r\n", "hello"), // trailers discarded
        ("0000000000000000000000000005\r\nhello\r\n0\r\n\r\n", "hello"), // leading zeros never overflow
        ("20\r\n0123456789abcdef0123456789abcdef\r\n0\r\n\r\n", "0123456789abcdef0123456789abcdef"), // exactly the limit
        ("1\r\n\r\r\n1\r\n\n\r\n0\r\n\r\n", "\r\n"), // CR and LF as chunk data
        ("5\r\nhell\r\n0\r\n\r\n", "hell\r"), // the CR is data; the bare LF ends the chunk
    ])
    func decodesChunkedBodies(wire: String, body: String) {
        let input = Array(wire.utf8) + Array("POST /next HTTP/1.1\r\n".utf8)
        #expect(HTTPFeed.outcome(Self.chunked, input) == .done(Array(body.utf8), end: wire.utf8.count))
    }

    @Test(arguments: [
        ("5\r\nhello\r\n", nil), // no last chunk yet
        ("5\r\nhel", nil),
        ("0\r\nTrailer: x\r\n", nil),
        ("x\r\nhello\r\n0\r\n\r\n", "400 invalid chunk size"),
        ("\r\nhello\r\n0\r\n\r\n", "400 invalid chunk size"),
        (" 5\r\nhello\r\n0\r\n\r\n", "400 invalid chunk size"),
        ("-5\r\nhello\r\n0\r\n\r\n", "400 invalid chunk size"),
        ("0x5\r\nhello\r\n0\r\n\r\n", "400 invalid chunk extension"),
        ("5 x\r\nhello\r\n0\r\n\r\n", "400 invalid chunk extension"),
        ("5;a\u{01}\r\nhello\r\n0\r\n\r\n", "400 invalid chunk extension"),
        ("5\r\nhelloX\r\n0\r\n\r\n", "400 missing CRLF after chunk data"),
        ("5\r\nhel\r\n0\r\n\r\n", "400 missing CRLF after chunk data"),
        ("0\r\nbad trailer\r\n\r\n", "400 malformed trailer field"),
        ("21\r\n", "413 body exceeds 32 bytes"),
        ("10\r\n0123456789abcdef\r\n11\r\n", "413 body exceeds 32 bytes"), // total 33 > 32
        ("fffffffffffffffffffffffffffff\r\n", "413 body exceeds 32 bytes"), // would overflow Int
    ] as [(String, String?)])
    func refusesOrWaitsOnBadChunkedBodies(wire: String, failure: String?) {
        let expected: HTTPFeedOutcome<[UInt8]> = failure.map { .failed($0) } ?? .needMore
        #expect(HTTPFeed.outcome(Self.chunked, wire) == expected)
    }

    @Test func refusesOverlongChunkLine() {
        let wire = "5;" + String(repeating: "x", count: HTTPBodyDecoder.maxLineLength) + "\r\nhello\r\n0\r\n\r\n"
        #expect(HTTPFeed.outcome(Self.chunked, wire) == .failed("400 chunk line too long"))
    }

    @Test func refusesOversizedTrailerSection() {
        let line = "X: " + String(repeating: "v", count: 1000) + "\r\n"
        let wire = "0\r\n" + String(repeating: line, count: 9) + "\r\n"
        #expect(HTTPFeed.outcome(Self.chunked, wire) == .failed("431 trailer section exceeds 8192 bytes"))
    }

    /// Every chunk-size from 1 to 40 against a 32-byte limit: at or under passes, over is 413.
    @Test func chunkTotalsAtTheLimit() {
        for size in 1...40 {
            let wire = String(size, radix: 16) + "\r\n" + String(repeating: "z", count: size) + "\r\n0\r\n\r\n"
            var decoder = Self.chunked()
            let result = Array(wire.utf8).withUnsafeBytes { decoder.decode($0) }
            if size <= 32 {
                #expect(result == .complete(body: Array(repeating: UInt8(ascii: "z"), count: size), consumed: wire.utf8.count))
            } else {
                #expect(result == .failure(.payloadTooLarge, "body exceeds 32 bytes"))
            }
        }
    }

    /// Framing chosen from a parsed head, then the body decoded from the bytes after it.
    @Test func headThenBodyInOneBuffer() throws {
        let wire = "POST /publish/news HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n"
        let bytes = Array(wire.utf8)
        var parser = HTTPRequestParser()
        guard case .complete(let request, let consumed) = bytes.withUnsafeBytes({ parser.parse($0) }) else {
            Issue.record("head did not parse")
            return
        }
        let framing = try HTTPBodyDecoder.framing(for: request, maxBodySize: 1024).get()
        var decoder = HTTPBodyDecoder(framing: framing, maxBodySize: 1024)
        let rest = bytes[consumed...]
        #expect(rest.withUnsafeBytes { decoder.decode($0) } == .complete(body: Array("abc".utf8), consumed: rest.count))
    }
}
