import BusProtocol
import Foundation
import Testing
@testable import Broker

/// `POST /publish/<topic>`: backends fan out without speaking WebSocket.
@Suite(.serialized) struct HTTPPublishTests {
    static func post(_ topic: String, _ body: String, type: String = "application/json", extra: String = "") -> String {
        "POST /publish/\(topic) HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: \(type)\r\nContent-Length: \(body.utf8.count)\r\n\(extra)\r\n\(body)"
    }

    /// Reads HTTP responses until `count` complete ones (heads with Content-Length bodies) arrived.
    static func responses(_ raw: RawSocket, count: Int) -> [String] {
        var found: [String] = []
        _ = raw.read(timeout: 5) { bytes in
            found = Self.split(String(decoding: bytes, as: UTF8.self))
            return found.count >= count
        }
        return found
    }

    static func split(_ text: String) -> [String] {
        var out: [String] = []
        var rest = Substring(text)
        while let headEnd = rest.range(of: "\r\n\r\n") {
            let head = rest[..<headEnd.lowerBound]
            let length = head.split(separator: "\r\n").first { $0.lowercased().hasPrefix("content-length:") }
                .flatMap { Int($0.split(separator: ":")[1].trimmingCharacters(in: .whitespaces)) } ?? 0
            let bodyStart = headEnd.upperBound
            guard rest.utf8.distance(from: bodyStart, to: rest.endIndex) >= length else { break }
            let bodyEnd = rest.utf8.index(bodyStart, offsetBy: length)
            out.append(String(rest[rest.startIndex..<bodyEnd]))
            rest = rest[bodyEnd...]
        }
        return out
    }

    /// Issue 19: `curl -d hello URL` sends application/x-www-form-urlencoded; it was published
    /// as binary, so subscribers saw `aGVsbG8=`. It is text now, never form-decoded; without a
    /// content type the same bytes stay binary.
    @Test func curlsDefaultFormBodyIsPublishedAsText() throws {
        let server = try LiveServer()
        defer { server.stop() }
        let subscriber = try BusClient(port: server.port)
        _ = try subscriber.subscribe("form.>")
        let raw = try RawSocket(port: server.port)
        raw.send(Self.post("form.text", "hello+world&a=%41", type: "application/x-www-form-urlencoded"))
        raw.send("POST /publish/form.bytes HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 5\r\n\r\nhello")
        let replies = Self.responses(raw, count: 2)
        #expect(replies.count == 2 && replies.allSatisfy { $0.hasPrefix("HTTP/1.1 200") }, "\(replies)")
        guard case .message("form.text", _, 1, let text) = try subscriber.next() else { Issue.record("form text"); return }
        #expect(String(decoding: text, as: UTF8.self) == #""hello+world&a=%41""#)
        guard case .message("form.bytes", _, 1, let bytes) = try subscriber.next() else { Issue.record("no type"); return }
        #expect(bytes == Array("hello".utf8))
        // Not UTF-8 under a text type: 400, naming the type for bytes.
        let bad = try RawSocket(port: server.port)
        bad.send(Array("POST /publish/form.bad HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 2\r\n\r\n".utf8) + [0xFF, 0xFE])
        let refused = Self.responses(bad, count: 1).first ?? ""
        #expect(refused.hasPrefix("HTTP/1.1 400") && refused.contains("bad_request") && refused.contains("application/octet-stream"), "\(refused)")
        subscriber.close()
    }

    @Test func jsonTextAndBinaryBodiesReachSubscribers() throws {
        let server = try LiveServer()
        defer { server.stop() }
        let subscriber = try BusClient(port: server.port)
        try subscriber.subscribe("http.>")
        let raw = try RawSocket(port: server.port)
        raw.send(Self.post("http.json", #"{"a": 1}"#))
        let first = Self.responses(raw, count: 1)
        #expect(first.first?.hasPrefix("HTTP/1.1 200") == true)
        #expect(first.first?.contains(#""seq":1,"subscribers":1"#) == true)
        raw.send(Self.post("http.text", "plain \"words\"", type: "text/plain"))
        raw.send(Self.post("http.bin", "\u{1}\u{2}", type: "application/octet-stream"))
        let both = Self.responses(raw, count: 2)
        #expect(both.count == 2 && both.allSatisfy { $0.hasPrefix("HTTP/1.1 200") }, "\(both)")
        guard case .message("http.json", _, 1, let json) = try subscriber.next() else { Issue.record("json"); return }
        #expect(json == Array(#"{"a": 1}"#.utf8))
        guard case .message("http.text", _, 1, let text) = try subscriber.next() else { Issue.record("text"); return }
        #expect(String(decoding: text, as: UTF8.self) == #""plain \"words\"""#)
        guard case .message("http.bin", _, 1, let binary) = try subscriber.next() else { Issue.record("binary"); return }
        #expect(binary == [1, 2])
        subscriber.close()
    }

    @Test func keepAliveAndPipeliningAnswerInOrder() throws {
        let server = try LiveServer()
        defer { server.stop() }
        let raw = try RawSocket(port: server.port)
        var batch = ""
        for i in 0..<50 { batch += Self.post("pipe.t\(i % 3)", String(i)) }
        raw.send(batch)
        let replies = Self.responses(raw, count: 50)
        #expect(replies.count == 50)
        var seqs: [String: Int] = [:]
        for (i, reply) in replies.enumerated() {
            let topic = "pipe.t\(i % 3)"
            seqs[topic, default: 0] += 1
            #expect(reply.contains("\"topic\":\"\(topic)\"") && reply.contains("\"seq\":\(seqs[topic]!),"), "\(i): \(reply)")
        }
    }

    @Test func chunkedBodiesAndExpectContinueWork() throws {
        let server = try LiveServer()
        defer { server.stop() }
        let subscriber = try BusClient(port: server.port)
        try subscriber.subscribe("chunky")
        let raw = try RawSocket(port: server.port)
        raw.send("POST /publish/chunky HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nExpect: 100-continue\r\nTransfer-Encoding: chunked\r\n\r\n")
        let interim = raw.readHTTPHead()
        #expect(interim.hasPrefix("HTTP/1.1 100 Continue"))
        raw.send("3\r\n[1,\r\n2\r\n2]\r\n0\r\n\r\n")
        #expect(Self.responses(raw, count: 1).first?.hasPrefix("HTTP/1.1 200") == true)
        guard case .message("chunky", _, 1, let data) = try subscriber.next() else { Issue.record("chunked"); return }
        #expect(data == Array("[1,2]".utf8))
        subscriber.close()
    }

    @Test(arguments: [
        (post("bad..topic", "1"), "400", "invalid_topic"),
        (post("a.*", "1"), "400", "invalid_topic"),
        (post("t", "{nope"), "400", "bad_json"),
        ("GET /publish/t HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", "405", "method_not_allowed"),
        ("POST /publish/t HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n", "400", "bad_request"),
        ("POST /publish/t HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 99999999\r\n\r\n", "413", "payload_too_large"),
    ])
    func badPublishesGetAJSONError(request: String, status: String, code: String) throws {
        let server = try LiveServer()
        defer { server.stop() }
        let raw = try RawSocket(port: server.port)
        raw.send(request)
        let reply = Self.responses(raw, count: 1).first ?? ""
        #expect(reply.hasPrefix("HTTP/1.1 \(status)"), "\(reply)")
        #expect(reply.contains("\"code\":\"\(code)\""), "\(reply)")
    }
}
