import Testing
@testable import Frames

/// The client-side response head parser, fed in every chunking.
struct HTTPResponseParserTests {
    static func parser() -> HTTPResponseParser { HTTPResponseParser() }

    /// The RFC 6455 §1.3 sample answer.
    static let sample = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        + "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\nSec-WebSocket-Protocol: chat\r\n\r\n"

    static let sampleHead = HTTPResponseHead(status: .switchingProtocols, headers: HTTPHeaders([
        ("Upgrade", "websocket"), ("Connection", "Upgrade"),
        ("Sec-WebSocket-Accept", "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="), ("Sec-WebSocket-Protocol", "chat"),
    ]))

    @Test func parsesSwitchingProtocols() {
        #expect(HTTPFeed.outcome(Self.parser, Self.sample) == .done(Self.sampleHead, end: Self.sample.utf8.count))
    }

    /// The server may send its first frame in the same segment as the 101.
    @Test func leavesFrameBytesAfterHeadToCaller() {
        let input = Array(Self.sample.utf8) + [0x81, 0x02, 0x68, 0x69]
        #expect(HTTPFeed.outcome(Self.parser, input) == .done(Self.sampleHead, end: Self.sample.utf8.count))
    }

    @Test func acceptsBareLF() {
        let text = Self.sample.replacing("\r\n", with: "\n")
        #expect(HTTPFeed.outcome(Self.parser, text) == .done(Self.sampleHead, end: text.utf8.count))
    }

    @Test(arguments: [
        ("HTTP/1.1 404 Not Found\r\n\r\n", 404, "Not Found", HTTPVersion.http1_1),
        ("HTTP/1.0 200 OK\r\n\r\n", 200, "OK", .http1_0),
        ("HTTP/1.1 426 \r\n\r\n", 426, "", .http1_1),
        ("HTTP/1.1 426\r\n\r\n", 426, "", .http1_1), // missing SP tolerated (RFC 9112 §4)
        ("HTTP/1.1 599 Weird\tReason  here\r\n\r\n", 599, "Weird\tReason  here", .http1_1),
    ])
    func parsesStatusLines(text: String, code: Int, reason: String, version: HTTPVersion) {
        let head = HTTPResponseHead(status: HTTPStatus(code: code, reason: reason), version: version)
        #expect(HTTPFeed.outcome(Self.parser, text) == .done(head, end: text.utf8.count))
    }

    @Test(arguments: [
        "HTTP/2 101 Switching Protocols\r\n\r\n",
        "HTTP/2.0 101 Switching Protocols\r\n\r\n",
        "HTTP/1.1 1O1 Switching Protocols\r\n\r\n",
        "HTTP/1.1 10 Short\r\n\r\n",
        "HTTP/1.1 1011 Long\r\n\r\n",
        "HTTP/1.1 099 Low\r\n\r\n",
        "HTTP/1.1  101 Double\r\n\r\n",
        "http/1.1 101 Switching Protocols\r\n\r\n",
        "HTTP/1.1 101 Bad\u{01}Reason\r\n\r\n",
        "HTTP/1.1 101 OK\r\nUpgrade : websocket\r\n\r\n",
        "HTTP/1.1 101 OK\r\nUpgrade: websocket\r\n folded\r\n\r\n",
        "HTTP/1.1 101 OK\r\nno colon\r\n\r\n",
    ])
    func rejectsMalformedResponses(text: String) {
        let outcome = HTTPFeed.outcome(Self.parser, text)
        guard case .failed = outcome else {
            Issue.record("expected failure, got \(outcome)")
            return
        }
    }

    @Test func enforcesMaxHeadSize() {
        let make = { HTTPResponseParser(maxHeadSize: 64) }
        let text = "HTTP/1.1 101 Switching Protocols\r\nX: " + String(repeating: "a", count: 40) + "\r\n\r\n"
        #expect(HTTPFeed.outcome(make, text) == .failed("HTTP head exceeds 64 bytes"))
    }

    @Test func failureIsSticky() {
        var parser = HTTPResponseParser()
        let bad = Array("HTTP/9.9 101 X\r\n".utf8)
        let first = bad.withUnsafeBytes { parser.parse($0) }
        #expect(first == .failure("malformed status line"))
        #expect(Array(Self.sample.utf8).withUnsafeBytes { parser.parse($0) } == first)
    }
}
