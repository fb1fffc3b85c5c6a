import Testing
@testable import Frames

struct HandshakeErrorTests {
    @Test func responseCarriesMessageAndExtraHeaders() {
        let error = HandshakeError(status: .upgradeRequired, message: "Sec-WebSocket-Version must be 13",
                                   extraHeaders: [("Sec-WebSocket-Version", "13")])
        let expected = "HTTP/1.1 426 Upgrade Required\r\nContent-Type: text/plain; charset=utf-8\r\n"
            + "Content-Length: 33\r\nSec-WebSocket-Version: 13\r\nConnection: close\r\n\r\n"
            + "Sec-WebSocket-Version must be 13\n"
        #expect(error.response() == Array(expected.utf8))
    }

    /// RFC 6455 §4.4 plus RFC 9110 §15.5.22: a version refusal names the version we speak
    /// and carries `Upgrade`.
    @Test func versionRefusalResponseIsExact() {
        do {
            _ = try ServerHandshake.validate(ServerHandshakeTests.request([("Sec-WebSocket-Version", "8")]))
            Issue.record("version 8 accepted")
        } catch {
            let expected = "HTTP/1.1 426 Upgrade Required\r\nContent-Type: text/plain; charset=utf-8\r\n"
                + "Content-Length: 33\r\nSec-WebSocket-Version: 13\r\nUpgrade: websocket\r\n"
                + "Connection: Upgrade\r\nConnection: close\r\n\r\nSec-WebSocket-Version must be 13\n"
            #expect(error.response() == Array(expected.utf8))
        }
    }

    @Test func methodNotAllowedResponseHasAllow() {
        let request = HTTPRequest(method: "PUT", target: "/ws")
        do {
            _ = try ServerHandshake.validate(request)
            Issue.record("PUT accepted")
        } catch {
            let text = String(decoding: error.response(), as: UTF8.self)
            #expect(text.hasPrefix("HTTP/1.1 405 Method Not Allowed\r\n"))
            #expect(text.contains("\r\nAllow: GET\r\n"))
        }
    }

    @Test func equalityIgnoresExtraHeaders() {
        let a = HandshakeError(status: .badRequest, message: "m", extraHeaders: [("A", "1")])
        #expect(a == HandshakeError(status: .badRequest, message: "m"))
        #expect(a != HandshakeError(status: .badRequest, message: "n"))
        #expect(a != HandshakeError(status: .forbidden, message: "m"))
    }
}
