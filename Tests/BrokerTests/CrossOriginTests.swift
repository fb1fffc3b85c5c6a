import Auth
import Foundation
import Frames
import Testing
@testable import Broker

/// One CORS component for `/sse`, `/publish` and `/history` (issue 15): a browser's JSON POST
/// preflights with OPTIONS, and an `EventSource` or `fetch` from another origin needs its
/// origin echoed.
@Suite(.serialized) struct CrossOriginTests {
    static let app = "https://app.example.com"

    static func exchange(_ port: UInt16, _ request: String) throws -> HTTPResult {
        let raw = try RawSocket(port: port)
        raw.send(request)
        let text = String(decoding: raw.read(timeout: 5) { bytes in
            let text = String(decoding: bytes, as: UTF8.self)
            guard let end = text.range(of: "\r\n\r\n") else { return false }
            let head = text[..<end.lowerBound].lowercased()
            guard let length = head.split(separator: "\r\n").first(where: { $0.hasPrefix("content-length:") }) else { return true }
            let count = Int(length.split(separator: ":")[1].trimmingCharacters(in: .whitespaces)) ?? 0
            return text.utf8.count - text.utf8.distance(from: text.startIndex, to: end.upperBound) >= count
        }.bytes, as: UTF8.self)
        return try HTTPResult(text: text)
    }

    static func preflight(_ path: String, origin: String?, method: String = "POST") -> String {
        "OPTIONS \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\n" + (origin.map { "Origin: \($0)\r\n" } ?? "")
            + "Access-Control-Request-Method: \(method)\r\nAccess-Control-Request-Headers: content-type, authorization\r\n\r\n"
    }

    @Test(arguments: [("/publish/chat.room1", "POST"), ("/history/chat.room1", "GET"), ("/sse/chat.room1", "GET")])
    func preflightFromAnAllowedOriginIs204WithTheOriginEchoed(_ path: String, _ methods: String) throws {
        let server = try LiveServer { $0.allowedOrigins = [Self.app] }
        defer { server.stop() }
        let answer = try Self.exchange(server.port, Self.preflight(path, origin: Self.app))
        #expect(answer.status == 204, "\(answer.head)")
        #expect(answer.header("Access-Control-Allow-Origin") == Self.app)
        #expect(answer.header("Access-Control-Allow-Methods") == "\(methods), OPTIONS")
        #expect(answer.header("Access-Control-Allow-Headers") == "authorization, content-type, last-event-id")
        #expect(answer.header("Vary") == "Origin")
        #expect(answer.header("Access-Control-Allow-Credentials") == nil)
        #expect(answer.header("Content-Length") == nil)
        #expect(answer.body.isEmpty)
    }

    /// Bad input: a preflight from an origin the policy refuses is 403 with no CORS headers,
    /// so the browser stops there.
    @Test func preflightFromAForbiddenOriginIs403WithoutCORSHeaders() throws {
        let server = try LiveServer { $0.allowedOrigins = [Self.app] }
        defer { server.stop() }
        let answer = try Self.exchange(server.port, Self.preflight("/publish/chat.room1", origin: "https://evil.example.net"))
        #expect(answer.status == 403, "\(answer.head)")
        #expect(answer.header("Access-Control-Allow-Origin") == nil)
        #expect(answer.body.contains("\"forbidden\""))
    }

    /// Bad input: a preflight has no body; one that comes with one is refused and the
    /// connection closed (the body is never read).
    @Test func preflightWithABodyIs400AndCloses() throws {
        let server = try LiveServer { $0.allowedOrigins = [Self.app] }
        defer { server.stop() }
        let raw = try RawSocket(port: server.port)
        raw.send("OPTIONS /publish/a HTTP/1.1\r\nHost: 127.0.0.1\r\nOrigin: \(Self.app)\r\nContent-Length: 3\r\n\r\nabc")
        let answer = raw.read(timeout: 5)
        let text = String(decoding: answer.bytes, as: UTF8.self)
        #expect(text.hasPrefix("HTTP/1.1 400") && text.contains("bad_request") && answer.eof, "\(text)")
    }

    /// With no `--allowed-origin`, nothing cross-origin passes (the default is same host only).
    @Test func withNoAllowedOriginsACrossOriginPreflightIsRefused() throws {
        let server = try LiveServer()
        defer { server.stop() }
        let answer = try Self.exchange(server.port, Self.preflight("/sse/a", origin: "http://localhost:3000", method: "GET"))
        #expect(answer.status == 403, "\(answer.head)")
        let same = try Self.exchange(server.port, Self.preflight("/sse/a", origin: "http://127.0.0.1", method: "GET"))
        #expect(same.status == 204 && same.header("Access-Control-Allow-Origin") == "http://127.0.0.1", "\(same.head)")
    }

    /// A preflight never carries a token: it passes with auth on; the real request still needs
    /// one, and its 401 carries the CORS headers so the page can read it.
    @Test func preflightNeedsNoTokenButTheRequestDoes() throws {
        let server = try LiveServer {
            $0.allowedOrigins = [Self.app]
            $0.auth.tokens = try! StaticTokens(json: Array(#"[{"token":"t-0123456789abcdef","publish":[">"],"subscribe":[">"]}]"#.utf8))
        }
        defer { server.stop() }
        let preflight = try Self.exchange(server.port, Self.preflight("/publish/a", origin: Self.app))
        #expect(preflight.status == 204, "\(preflight.head)")
        let post = "POST /publish/a HTTP/1.1\r\nHost: 127.0.0.1\r\nOrigin: \(Self.app)\r\nContent-Type: application/json\r\n"
        let refused = try Self.exchange(server.port, post + "Content-Length: 1\r\n\r\n1")
        #expect(refused.status == 401 && refused.header("Access-Control-Allow-Origin") == Self.app, "\(refused.head)")
        let accepted = try Self.exchange(server.port, post + "Authorization: Bearer t-0123456789abcdef\r\nContent-Length: 1\r\n\r\n1")
        #expect(accepted.status == 200, "\(accepted.head)")
        #expect(accepted.header("Access-Control-Allow-Origin") == Self.app && accepted.header("Vary") == "Origin")
        #expect(accepted.body.contains("\"seq\":1"))
    }

    /// Answers to an allowed origin carry the echo; answers to requests without Origin (and
    /// paths CORS does not open) carry none.
    @Test func answersEchoAnAllowedOriginOnly() throws {
        let server = try LiveServer { $0.allowedOrigins = [Self.app] }
        defer { server.stop() }
        let history = try Self.exchange(server.port, "GET /history/a HTTP/1.1\r\nHost: 127.0.0.1\r\nOrigin: \(Self.app)\r\n\r\n")
        #expect(history.status == 200 && history.header("Access-Control-Allow-Origin") == Self.app, "\(history.head)")
        #expect(history.body.hasPrefix("{\"topic\":\"a\""))
        let plain = try Self.exchange(server.port, "GET /history/a HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        #expect(plain.status == 200 && plain.header("Access-Control-Allow-Origin") == nil)
        let health = try Self.exchange(server.port, "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nOrigin: \(Self.app)\r\n\r\n")
        #expect(health.header("Access-Control-Allow-Origin") == nil)
        // Not a preflight (no Origin): the methods, nothing more.
        let options = try Self.exchange(server.port, Self.preflight("/history/a", origin: nil))
        #expect(options.status == 204 && options.header("Allow") == "GET, OPTIONS" && options.header("Access-Control-Allow-Origin") == nil)
    }

    /// The echoed origin goes through the header serializer: CR and LF can never start a line.
    @Test func spliceInsertsTheLinesAfterTheStatusLineOnly() {
        let response = OutboundBytes.copying(Array("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi".utf8))
        let lines = CrossOrigin.responseLines(origin: "https://a.example\r\nSet-Cookie: x")
        let spliced = CrossOrigin.splice(lines, into: response).withUnsafeBytes { String(decoding: $0, as: UTF8.self) }
        #expect(spliced == "HTTP/1.1 200 OK\r\nAccess-Control-Allow-Origin: https://a.example  Set-Cookie: x\r\nVary: Origin\r\n"
                + "Content-Length: 2\r\n\r\nhi")
    }
}

extension HTTPResult {
    /// Parses one raw answer already read.
    init(text: String) throws {
        guard let end = text.range(of: "\r\n\r\n") else { throw WebSocketClient.ClientError.handshake("no HTTP reply: \(text)") }
        head = String(text[..<end.lowerBound])
        body = String(text[end.upperBound...])
        status = Int(head.split(separator: " ").dropFirst().first ?? "") ?? 0
    }
}
