import Testing
@testable import Frames

/// Response serialization, compared with literal bytes.
struct HTTPResponseHeadTests {
    @Test func serializesStatusLineAndHeadersInOrder() {
        let head = HTTPResponseHead(status: .switchingProtocols,
                                    headers: HTTPHeaders([("Upgrade", "websocket"), ("Connection", "Upgrade")]))
        let expected = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n"
        #expect(head.serialized() == Array(expected.utf8))
    }

    @Test func simpleResponseHasLengthTypeAndClose() {
        let bytes = HTTPResponseHead.simple(.notFound, body: "no such topic\n", headers: [("X-Reason", "gone")])
        let expected = "HTTP/1.1 404 Not Found\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: 14\r\n"
            + "X-Reason: gone\r\nConnection: close\r\n\r\nno such topic\n"
        #expect(bytes == Array(expected.utf8))
    }

    @Test func simpleKeepAliveOmitsConnectionClose() {
        let bytes = HTTPResponseHead.simple(.ok, body: "{}", contentType: "application/json", keepAlive: true)
        let expected = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}"
        #expect(bytes == Array(expected.utf8))
    }

    /// Content-Length counts UTF-8 bytes, not characters.
    @Test func contentLengthCountsBytes() {
        let bytes = HTTPResponseHead.simple(.ok, body: "é€", keepAlive: true)
        #expect(String(decoding: bytes, as: UTF8.self).contains("Content-Length: 5\r\n"))
    }

    /// Guards against response splitting when a header value comes from a request.
    @Test func neutralizesCRLFInNamesValuesAndReason() {
        let head = HTTPResponseHead(status: HTTPStatus(code: 400, reason: "Bad\r\nX: y"),
                                    headers: HTTPHeaders([("A\r\nB", "v\r\nSet-Cookie: x\u{0}")]))
        let expected = "HTTP/1.1 400 Bad  X: y\r\nA  B: v  Set-Cookie: x \r\n\r\n"
        #expect(head.serialized() == Array(expected.utf8))
    }

    /// What the serializer writes, the client parser reads back.
    @Test func roundTripsThroughResponseParser() {
        let head = HTTPResponseHead(status: .tooManyRequests, headers: HTTPHeaders([("Retry-After", "1")]))
        var parser = HTTPResponseParser()
        let bytes = head.serialized()
        #expect(bytes.withUnsafeBytes { parser.parse($0) } == .complete(head, consumed: bytes.count))
    }

    @Test(arguments: [
        (HTTPStatus.ok, 200), (.switchingProtocols, 101), (.badRequest, 400), (.unauthorized, 401),
        (.forbidden, 403), (.notFound, 404), (.methodNotAllowed, 405), (.payloadTooLarge, 413),
        (.upgradeRequired, 426), (.tooManyRequests, 429), (.requestHeaderFieldsTooLarge, 431),
        (.internalServerError, 500), (.notImplemented, 501), (.serviceUnavailable, 503),
    ])
    func statusCodesMatchRFC(status: HTTPStatus, code: Int) {
        #expect(status.code == code)
        #expect(!status.reason.isEmpty)
    }
}
