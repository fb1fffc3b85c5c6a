import Auth
import BusProtocol
import Foundation
import Testing
@testable import Broker

/// `GET /sse/…` (issue 15, item 3): Server-Sent Events for clients with no WebSocket, with
/// resume through `Last-Event-ID`. Each failure row of Protocol.md's SSE table has a test here.
@Suite(.serialized) struct EventStreamTests {
    static func publish(_ port: UInt16, _ topic: String, _ body: String, type: String = "application/json") throws -> HTTPResult {
        try CrossOriginTests.exchange(port, HTTPPublishTests.post(topic, body, type: type))
    }

    /// The stream's head and its opening blocks (`retry:`, then the id after the subscribe).
    static func open(_ port: UInt16, _ target: String, headers: [(String, String)] = []) throws -> (EventStreamClient, [StreamEvent]) {
        let client = try EventStreamClient(port: port, target: target, headers: headers)
        let opening = client.events { events in events.contains { $0.isEmpty && $0.id != nil } }
        return (client, opening)
    }

    @Test func streamAnswersEventStreamHeadersAndDeliversMessagesAsEvents() throws {
        let server = try LiveServer()
        defer { server.stop() }
        let (client, opening) = try Self.open(server.port, "/sse/sse.a?topic=sse.b")
        let head = client.readHead()
        #expect(head.hasPrefix("HTTP/1.1 200 OK"), "\(head)")
        #expect(head.contains("\r\nContent-Type: text/event-stream\r\n") && head.contains("\r\nCache-Control: no-store\r\n"))
        #expect((head + "\r\n").contains("\r\nX-Accel-Buffering: no\r\n") && (head + "\r\n").contains("\r\nConnection: close\r\n"))
        #expect(!head.contains("Content-Length") && !head.contains("Transfer-Encoding"), "close-delimited")
        let retry = opening.first?.retry ?? 0
        #expect(retry >= 1000 && retry <= 10_000, "\(opening)")
        // After the subscribe: an empty block whose id names where the stream stands.
        #expect(opening.last?.isEmpty == true && opening.last?.id?.hasPrefix("t:") == true, "\(opening)")

        #expect(try Self.publish(server.port, "sse.a", "{\"text\":\n\"two lines\"}").status == 200)
        #expect(try Self.publish(server.port, "sse.b", "\u{0}\u{1}\u{FF}", type: "application/octet-stream").status == 200)
        let messages = client.messages(2)
        #expect(messages.count == 2)
        // The same JSON as the WebSocket message envelope, one data line per payload line.
        #expect(messages.first?.data?.hasPrefix(#"{"type":"message","topic":"sse.a","epoch":""#) == true)
        #expect(messages.first?.data?.hasSuffix(#""seq":1,"data":{"text":"# + "\n" + #""two lines"}}"#) == true, "\(messages)")
        let binary = messages.last?.json
        #expect(binary?["topic"] as? String == "sse.b" && binary?["binary"] as? String == Data([0, 1, 0xC3, 0xBF]).base64EncodedString(),
                "\(messages)")
        #expect(binary?["data"] == nil)
        // Each event's id is a resumable position: printable ASCII, at most 256 bytes.
        for event in messages {
            let id = event.id ?? ""
            #expect(!id.isEmpty && id.utf8.count <= 256 && id.utf8.allSatisfy { $0 >= 0x20 && $0 < 0x7F })
        }
    }

    /// A browser's reconnect sends `Last-Event-ID`: every message after it follows, once, in
    /// order, then live ones; it wins over `since` and `last` on the same URL.
    @Test func lastEventIDResumesWithNoGapAndNoDuplicate() throws {
        let server = try LiveServer()
        defer { server.stop() }
        let (first, _) = try Self.open(server.port, "/sse/resume.a?topic=resume.b")
        for i in 1...3 { #expect(try Self.publish(server.port, i % 2 == 0 ? "resume.b" : "resume.a", "\(i)").status == 200) }
        let seen = first.messages(3)
        #expect(seen.map { $0.json?["data"] as? Int } == [1, 2, 3], "\(seen)")
        let resumeID = seen[1].id!
        first.socket.close()
        // Published while the client was away.
        for i in 4...6 { #expect(try Self.publish(server.port, i % 2 == 0 ? "resume.b" : "resume.a", "\(i)").status == 200) }
        let (second, opening) = try Self.open(server.port, "/sse/resume.a?topic=resume.b&since=garbage&last=100",
                                              headers: [("Last-Event-ID", resumeID)])
        // Each topic in order; the two topics' replays come from their owner loops and may
        // interleave.
        let replayed = opening.filter { $0.name == nil && $0.data != nil }.compactMap { $0.json }
        #expect(replayed.compactMap { $0["data"] as? Int }.sorted() == [3, 4, 5, 6], "\(opening)")
        for topic in ["resume.a", "resume.b"] {
            let seqs = replayed.filter { $0["topic"] as? String == topic }.compactMap { $0["seq"] as? Int }
            #expect(seqs == [2, 3], "\(topic): \(seqs)")
        }
        let recovered = opening.first { $0.name == "recovered" }
        #expect(recovered?.json?["recovered"] as? Bool == true, "\(opening)")
        #expect(try Self.publish(server.port, "resume.a", "7").status == 200)
        #expect(second.messages(1).map { $0.json?["data"] as? Int } == [7])
    }

    @Test func sinceAndLastResumeWhenNoLastEventIDIsSent() throws {
        let server = try LiveServer()
        defer { server.stop() }
        for i in 1...5 { #expect(try Self.publish(server.port, "hist.a", "\(i)").status == 200) }
        let (last, opening) = try Self.open(server.port, "/sse/hist.a?last=2")
        #expect(opening.filter { $0.name == nil && $0.data != nil }.map { $0.json?["seq"] as? Int } == [4, 5], "\(opening)")
        let position = opening.last!.id!
        last.socket.close()
        #expect(position.hasSuffix(":5"), "\(position)")
        #expect(try Self.publish(server.port, "hist.a", "6").status == 200)
        let (_, resumed) = try Self.open(server.port, "/sse/hist.a?since=\(position)&last=5")
        #expect(resumed.filter { $0.name == nil && $0.data != nil }.map { $0.json?["seq"] as? Int } == [6], "\(resumed)")
    }

    /// Bad input: an id that is malformed, or from another stream, is 200 and `recovered:
    /// false` (any other status would end an EventSource for good); the stream goes live.
    @Test(arguments: ["garbage", "t:abc:notanumber", "t:a:1,b:2", "t::1", String(repeating: "t", count: 300), "live"])
    func malformedLastEventIDIs200AndRecoveredFalse(_ id: String) throws {
        let server = try LiveServer()
        defer { server.stop() }
        let (client, opening) = try Self.open(server.port, "/sse/bad.id", headers: [("Last-Event-ID", id)])
        #expect(client.status == 200)
        let recovered = opening.first { $0.name == "recovered" }
        #expect(recovered?.json?["recovered"] as? Bool == false, "\(opening)")
        #expect(try Self.publish(server.port, "bad.id", "1").status == 200)
        #expect(client.messages(1).count == 1)
    }

    /// A position from another life of the topic (another epoch) replays what is retained, and
    /// says it is not a complete recovery.
    @Test func foreignEpochReplaysRetainedAndSaysNotRecovered() throws {
        let server = try LiveServer()
        defer { server.stop() }
        #expect(try Self.publish(server.port, "epoch.a", "1").status == 200)
        let (_, opening) = try Self.open(server.port, "/sse/epoch.a", headers: [("Last-Event-ID", "t:0000000000000000:7")])
        #expect(opening.first { $0.name == "recovered" }?.json?["recovered"] as? Bool == false, "\(opening)")
        #expect(opening.filter { $0.name == nil && $0.data != nil }.count == 1)
    }

    /// A wildcard stream's ids are its cursor: cut after any event, it resumes from that id
    /// with every message of every matching topic (new ones too) once, in order per topic.
    @Test(arguments: [2, 3]) func patternStreamsResumeFromTheirCursor(loops: Int) throws {
        let server = try LiveServer { $0.loops = loops }
        defer { server.stop() }
        let (first, opening) = try Self.open(server.port, "/sse/wild.%3E")
        #expect(opening.last.flatMap { $0.id }.flatMap { Cursor(parsing: $0) } != nil, "\(opening)")
        for i in 1...6 { #expect(try Self.publish(server.port, "wild.t\(i % 3)", "\(i)").status == 200) }
        let seen = first.messages(6)
        let resumeID = seen[3].id!
        #expect(Cursor(parsing: resumeID) != nil, "\(resumeID)")
        first.socket.close()
        for i in 7...12 { #expect(try Self.publish(server.port, "wild.t\(i % 5)", "\(i)").status == 200) }  // two new topics
        let (second, resumed) = try Self.open(server.port, "/sse/wild.%3E", headers: [("Last-Event-ID", resumeID)])
        #expect(resumed.first { $0.name == "recovered" }?.json?["recovered"] as? Bool == true, "\(resumed)")
        var replayed = resumed.filter { $0.name == nil && $0.data != nil }.compactMap { $0.json }
        if replayed.count < 8 { replayed += second.messages(8 - replayed.count).compactMap { $0.json } }
        let all = seen.prefix(4).compactMap { $0.json } + replayed
        #expect(all.compactMap { $0["data"] as? Int }.sorted() == Array(1...12), "\(all.map { $0["data"] ?? "?" })")
        for topic in Set(all.compactMap { $0["topic"] as? String }) {
            let seqs = all.filter { $0["topic"] as? String == topic }.compactMap { $0["seq"] as? Int }
            #expect(seqs == Array(1...seqs.count), "\(topic): \(seqs)")
        }
    }

    /// `last` on a wildcard stream replays each matching topic's newest; a cursor from another
    /// server life is not a recovery.
    @Test func patternStreamsTakeLastAndRefuseForeignCursors() throws {
        let server = try LiveServer()
        defer { server.stop() }
        for i in 1...4 { #expect(try Self.publish(server.port, "wild.t\(i % 2)", "\(i)").status == 200) }
        let (stream, opening) = try Self.open(server.port, "/sse/wild.%3E?last=1")
        var replayed = opening.filter { $0.name == nil && $0.data != nil }
        if replayed.count < 2 { replayed += stream.messages(2 - replayed.count) }
        #expect(replayed.compactMap { $0.json?["data"] as? Int }.sorted() == [3, 4], "\(replayed)")
        let (_, foreign) = try Self.open(server.port, "/sse/wild.%3E", headers: [("Last-Event-ID", "0123456789abcdef.9.9")])
        #expect(foreign.first { $0.name == "recovered" }?.json?["recovered"] as? Bool == false, "\(foreign)")
    }

    @Test(arguments: [
        ("/sse/a..b", 400, "invalid_topic"), ("/sse/a.b?topic=c.*x", 400, "invalid_topic"), ("/sse/", 400, "invalid_topic"),
        ("/sse/a?last=-1", 400, "bad_request"), ("/sse/a?last=%2B5", 400, "bad_request"),
    ])
    func badRequestsAreRefusedBeforeTheStream(_ target: String, _ status: Int, _ code: String) throws {
        let server = try LiveServer()
        defer { server.stop() }
        let answer = try CrossOriginTests.exchange(server.port, "GET \(target) HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        #expect(answer.status == status && answer.body.contains("\"\(code)\""), "\(answer.head)\n\(answer.body)")
        #expect(answer.header("Content-Type") == "application/json")
    }

    @Test func tooManyPatternsMethodAndBodyAreRefused() throws {
        let server = try LiveServer { $0.maxSubscriptions = 2 }
        defer { server.stop() }
        let many = try CrossOriginTests.exchange(server.port, "GET /sse/a?topic=b&topic=c HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        #expect(many.status == 400 && many.body.contains("too_many_subscriptions"))
        let post = try CrossOriginTests.exchange(server.port, "POST /sse/a HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 0\r\n\r\n")
        #expect(post.status == 405 && post.header("Allow") == "GET")
        let body = try CrossOriginTests.exchange(server.port, "GET /sse/a HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 1\r\n\r\nx")
        #expect(body.status == 400 && body.body.contains("bad_request"))
    }

    /// Auth: a token by header or `?token=`; none is 401, one that does not cover a pattern 403.
    @Test func streamsNeedATokenThatCoversEveryPattern() throws {
        let server = try AuthTests.server()
        defer { server.stop() }
        let viewer = AuthTests.jwt(#"{"bus":{"sub":["news.>"]}}"#)
        let none = try CrossOriginTests.exchange(server.port, "GET /sse/news.a HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        #expect(none.status == 401 && none.header("WWW-Authenticate")?.hasPrefix("Bearer") == true, "\(none.head)")
        let forbidden = try CrossOriginTests.exchange(
            server.port, "GET /sse/news.a?topic=secret.b&token=\(viewer) HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        #expect(forbidden.status == 403 && forbidden.body.contains("forbidden"), "\(forbidden.head)")
        let (byQuery, _) = try Self.open(server.port, "/sse/news.a?token=\(viewer)")
        #expect(byQuery.status == 200)
        let (byHeader, _) = try Self.open(server.port, "/sse/news.%3E", headers: AuthTests.bearer(viewer))
        #expect(byHeader.status == 200)
    }

    /// A JWT that expires ends the stream with a named event (an EventSource that reconnects
    /// with the same token then gets 401 and stops).
    @Test func expiredTokenEndsTheStreamWithANamedEvent() throws {
        let server = try AuthTests.server(leeway: 0)
        defer { server.stop() }
        let token = AuthTests.jwt(#"{"exp":\#(AuthTests.now + 2),"bus":{"sub":[">"]}}"#)
        let (client, _) = try Self.open(server.port, "/sse/t", headers: AuthTests.bearer(token))
        let rest = client.untilEnd(timeout: 15)
        let expired = rest.first { $0.name == "token_expired" }
        #expect(expired?.json?["code"] as? String == "unauthorized", "\(rest)")
        #expect(client.ended)
    }

    /// A stream that stops reading is dropped like a WebSocket slow consumer: a named event
    /// with the last position per topic and the id to resume from, then the end; resuming
    /// from that id loses nothing and repeats nothing.
    /// Large messages: the drop almost surely finds an event partly written.
    @Test(arguments: [2000, 50_000])
    func slowStreamGetsANamedEventThenResumesWithoutGapOrDuplicate(_ size: Int) throws {
        let server = try ServerProcess(["--loops", "2", "--socket-send-buffer", "4096", "--send-queue-messages", "16",
                                        "--slow-consumer-grace", "3600", "--close-timeout", "3600", "--history-messages", "1000"])
        defer { server.stop() }
        let slow = try EventStreamClient(port: server.port, target: "/sse/slow.t", receiveBuffer: 4096)
        _ = slow.events { $0.contains { $0.isEmpty && $0.id != nil } }
        let body = "\"" + String(repeating: "x", count: size) + "\""
        let publisher = try BusClient(port: server.port)
        for _ in 0..<300 { _ = try publisher.publish("slow.t", json: body, ack: false) }
        _ = try publisher.publish("slow.t", json: "0")  // acked: everything before is sequenced
        let all = slow.untilEnd(timeout: 20)
        #expect(slow.ended)
        let notice = all.first { $0.name == "slow_consumer" }
        #expect(notice?.json?["code"] as? String == "slow_consumer", "\(all.suffix(3))")
        // Every event whole: an event partly written when the stream was dropped is completed
        // before the notice, never merged with it.
        let events = all.filter { $0.name == nil && $0.data != nil }
        #expect(events.allSatisfy { $0.json != nil }, "a torn event")
        let received = events.compactMap { $0.json?["seq"] as? Int }
        #expect(received == Array(1...received.count), "in order, no gap")
        let positions = notice?.json?["positions"] as? [[String: Any]]
        #expect(positions?.first?["seq"] as? Int == received.count, "\(String(describing: positions))")
        #expect(notice?.id?.hasSuffix(":\(received.count)") == true, "\(String(describing: notice))")
        let (resumer, resumed) = try Self.open(server.port, "/sse/slow.t", headers: [("Last-Event-ID", notice?.id ?? "")])
        #expect(resumed.first { $0.name == "recovered" }?.json?["recovered"] as? Bool == true)
        let rest = resumed.filter { $0.name == nil && $0.data != nil }.compactMap { $0.json?["seq"] as? Int }
        #expect(rest == Array((received.count + 1)...301), "\(rest.prefix(3))")
        // Gone before the server stops: its drain waits for clients up to the close timeout.
        publisher.close()
        resumer.socket.close()
        let log = server.stopAndReadLog()
        #expect(log.contains("slow consumer dropped") && log.contains("stream=sse"), "\(log.suffix(500))")
        print("size \(size): \(log.contains("completed_event=true") ? "a partly written event was completed" : "no event was partly written")")
    }

    /// Input after the request is read only to see EOF: a client that floods is cut off
    /// within a bound, the server keeps serving.
    @Test func inputFloodAfterTheRequestEndsTheStream() throws {
        let server = try LiveServer()
        defer { server.stop() }
        let client = try EventStreamClient(port: server.port, target: "/sse/flood.a")
        #expect(client.status == 200)
        // A little input is discarded: the stream goes on.
        client.socket.send([UInt8](repeating: 0x41, count: 1000))
        #expect(try Self.publish(server.port, "flood.a", "1").status == 200)
        #expect(client.messages(1).count == 1)
        client.socket.send([UInt8](repeating: 0x41, count: Connection.maxEventStreamInput + 1))
        _ = client.untilEnd(timeout: 10)
        #expect(client.ended)
        #expect(try Self.publish(server.port, "flood.a", "2").status == 200)
    }

    /// The stream is counted in the connection gauges and its own; it leaves no subscription
    /// behind when the client goes (EOF is seen although the client never sends).
    @Test func streamsAreCountedAndLeaveNothingBehind() throws {
        let server = try LiveServer()
        defer { server.stop() }
        let (client, _) = try Self.open(server.port, "/sse/count.a?topic=count.b")
        let during = try HTTPResult(port: server.port, "/metrics")
        #expect(during.sample("bus_sse_streams") == 1 && during.sample("bus_subscriptions") == 2, "\(during.body)")
        #expect(during.sample("bus_sse_streams_opened_total") == 1)
        client.socket.close()
        #expect(eventually {
            let after = try? HTTPResult(port: server.port, "/metrics")
            return after?.sample("bus_sse_streams") == 0 && after?.sample("bus_subscriptions") == 0
        })
    }

    /// A stream that ends in the turn that opened it (here: more input than a stream may send,
    /// right behind its request) leaves no topic state behind. Its interest is applied and
    /// withdrawn at once on its own loop, but its position is read at the end of the turn:
    /// that read made a state nobody held and nobody forgot (one per request, up to the topic
    /// cap, evicting other topics' history). Review finding, issue 18.
    @Test func aStreamThatEndsInItsFirstTurnLeavesNoTopicState() throws {
        let server = try LiveServer { $0.loops = 1 }  // the topics' owner is the stream's loop
        defer { server.stop() }
        for i in 0..<20 {
            let socket = try RawSocket(port: server.port)
            socket.send(Array("GET /sse/gone.\(i) HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n\r\n".utf8)
                        + [UInt8](repeating: 0x41, count: Connection.maxEventStreamInput + 4096))
            #expect(socket.read(timeout: 5).eof, "the stream is closed for its input")
        }
        #expect(eventually {
            let metrics = try? HTTPResult(port: server.port, "/metrics")
            return metrics?.sample("bus_sse_streams") == 0 && metrics?.sample("bus_topics") == 0
        })
    }

    /// A stream holds a connection slot like any connection: at the limit the next client
    /// gets 503, and the slot comes back when the stream's client goes.
    @Test func streamsCountAgainstTheConnectionLimit() throws {
        let server = try LiveServer { $0.maxConnections = 1 }
        defer { server.stop() }
        let (client, _) = try Self.open(server.port, "/sse/limit.a")
        let refused = try RawSocket(port: server.port)
        #expect(refused.readHTTPHead().hasPrefix("HTTP/1.1 503"))
        client.socket.close()
        #expect(eventually { (try? HTTPResult(port: server.port, "/healthz"))?.status == 200 })
    }

    /// An empty Last-Event-ID is no id: `since` is used.
    @Test func emptyLastEventIDFallsBackToSince() throws {
        let server = try LiveServer()
        defer { server.stop() }
        for i in 1...3 { #expect(try Self.publish(server.port, "empty.a", "\(i)").status == 200) }
        let (_, opening) = try Self.open(server.port, "/sse/empty.a?last=1", headers: [("Last-Event-ID", "")])
        #expect(opening.filter { $0.name == nil && $0.data != nil }.map { $0.json?["seq"] as? Int } == [3], "\(opening)")
    }

    /// Quiet streams get an empty event every --sse-heartbeat, carrying the current id.
    @Test func heartbeatsCarryTheCurrentID() throws {
        let server = try LiveServer { $0.sseHeartbeat = 0.3 }
        defer { server.stop() }
        let (client, opening) = try Self.open(server.port, "/sse/beat.a")
        #expect(try Self.publish(server.port, "beat.a", "1").status == 200)
        let id = client.messages(1).first?.id
        let beats = client.events { $0.filter(\.isEmpty).count >= 2 }.filter(\.isEmpty)
        #expect(beats.count >= 2 && beats.allSatisfy { $0.id == id }, "\(opening) \(beats)")
    }

    /// A server shutting down ends its streams (the browser comes back after its `retry:`).
    @Test func shutdownEndsStreams() throws {
        let server = try LiveServer()
        let (client, _) = try Self.open(server.port, "/sse/down.a")
        server.stop()
        _ = client.untilEnd(timeout: 10)
        #expect(client.ended)
    }

    /// The stream's head carries CORS for an allowed origin.
    @Test func crossOriginStreamEchoesTheOrigin() throws {
        let server = try LiveServer { $0.allowedOrigins = [CrossOriginTests.app] }
        defer { server.stop() }
        let (client, _) = try Self.open(server.port, "/sse/cors.a", headers: [("Origin", CrossOriginTests.app)])
        #expect(client.readHead().contains("\r\nAccess-Control-Allow-Origin: \(CrossOriginTests.app)\r\nVary: Origin\r\n"))
    }
}
