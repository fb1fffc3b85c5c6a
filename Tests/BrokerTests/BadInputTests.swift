import BusProtocol
import Foundation
import Frames
import Testing
@testable import Broker

/// Protocol.md "Bad input", row by row, against a live server: every bad input gets its
/// documented answer, and nothing else changes. Each case runs next to a bystander (a
/// subscriber and a publisher on the same server) whose stream must carry on without a gap,
/// and error-envelope cases also check that the offending connection keeps what it held.
@Suite(.serialized) struct BadInputTests {
    // MARK: handshakes

    @Test(arguments: BadInputCases.handshakes)
    func badHandshakeGetsItsStatus(_ row: HandshakeCase) throws {
        let server = try LiveServer(row.configure)
        defer { server.stop() }
        let calm = try Bystander(server)
        let raw = try RawSocket(port: server.port)
        raw.send(row.request)
        let head = raw.readHTTPHead()
        #expect(head.hasPrefix("HTTP/1.1 \(row.status) "), "\(row.name): \(head.prefix(80))")
        if let header = row.header { #expect(head.contains(header + "\r\n"), "\(row.name): \(head)") }
        if row.closes { #expect(raw.read(timeout: 5).eof, "\(row.name): the refused connection is closed") }
        try calm.carriesOn()
    }

    @Test func requestHeadNotCompleteInTimeIsClosed() throws {
        let server = try LiveServer { $0.handshakeTimeout = 1 }
        defer { server.stop() }
        let calm = try Bystander(server)
        let raw = try RawSocket(port: server.port)
        raw.send("GET /bus HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: webs")
        let reply = raw.read(timeout: 5)
        #expect(reply.eof && reply.bytes.isEmpty, "closed without an answer")
        #expect(eventually { server.server.openConnections == 2 })
        try calm.carriesOn()
    }

    /// The deadline runs from accept to the end of the request, body included: a publish
    /// whose body stalls cannot hold its connection open.
    @Test func requestBodyNotCompleteInTimeIsClosed() throws {
        let server = try LiveServer { $0.handshakeTimeout = 1 }
        defer { server.stop() }
        let calm = try Bystander(server)
        let raw = try RawSocket(port: server.port)
        raw.send("POST /publish/calm.topic HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 100\r\n\r\n\"hal")
        #expect(raw.read(timeout: 5).eof)
        #expect(eventually { server.server.openConnections == 2 })
        try calm.carriesOn()  // and nothing of the half body was published
    }

    // MARK: frames

    @Test(arguments: BadInputCases.frames)
    func badFrameGetsItsCloseCode(_ row: FrameCase) throws {
        let server = try LiveServer(row.configure)
        defer { server.stop() }
        let calm = try Bystander(server)
        // Another connection's partial message, when the case needs the reassembly budget used.
        let holder = try row.heldElsewhere.map { held in
            let holder = try RawSocket(port: server.port)
            #expect(holder.upgrade(path: "/bus").hasPrefix("HTTP/1.1 101"))
            holder.send(held)
            #expect(eventually { (try? HTTPResult(port: server.port, "/metrics"))?.sample("bus_reassembly_bytes") ?? 0 > 0 })
            return holder
        }
        let raw = try RawSocket(port: server.port)
        let head = raw.upgrade(path: "/bus", extensions: row.deflate ? "permessage-deflate" : nil)
        #expect(head.hasPrefix("HTTP/1.1 101"))
        #expect(head.contains("permessage-deflate") == row.deflate)
        for frame in row.frames { raw.send(frame) }
        let reply = raw.read(timeout: 7) { bytes in SlowConsumerTests.frames(bytes).contains { $0.0 == .close } }
        let close = SlowConsumerTests.frames(reply.bytes).first { $0.0 == .close }
        #expect(close?.1 == [UInt8(row.code >> 8), UInt8(row.code & 0xFF)], "\(row.name): got \(String(describing: close))")
        // The server shuts its side after its close frame (no close handshake to wait for) and
        // frees the connection once we close ours.
        #expect(reply.eof || raw.read(timeout: 7).eof, "\(row.name): connection dropped")
        raw.close()
        #expect(eventually { server.server.openConnections == 2 + (holder == nil ? 0 : 1) })
        try calm.carriesOn()
    }

    /// Next to the bad frames, the good ones they border on are accepted.
    @Test func framesAtTheEdgeOfTheRulesAreAccepted() throws {
        let server = try LiveServer { $0.maxMessageSize = 4096 }
        defer { server.stop() }
        let calm = try Bystander(server)
        let raw = try RawSocket(port: server.port)
        #expect(raw.upgrade(path: "/bus").hasPrefix("HTTP/1.1 101"))
        // A character split across fragments, with a 125-byte ping between them.
        let head = Array(#"{"type":"publish","id":1,"topic":"edge","data":"#.utf8) + [0x22, 0xCE]
        raw.send(BadInputCases.frame(.text, fin: false, head))
        raw.send(BadInputCases.frame(.ping, [UInt8](repeating: 9, count: 125)))
        raw.send(BadInputCases.frame(.continuation, [0xBA, 0x22, 0x7D]))
        // A binary message of exactly max_message_size, in three fragments: taken whole (and,
        // as a binary publish, its header is nonsense, so it gets an error envelope, not a close).
        raw.send(BadInputCases.frame(.binary, fin: false, [UInt8](repeating: 1, count: 2000)))
        raw.send(BadInputCases.frame(.continuation, fin: false, [UInt8](repeating: 1, count: 2000)))
        raw.send(BadInputCases.frame(.continuation, [UInt8](repeating: 1, count: 96)))
        let replies = raw.read(timeout: 5) { SlowConsumerTests.frames($0).filter { $0.0 == .text }.count == 2 }.bytes
        let texts = SlowConsumerTests.frames(replies).filter { $0.0 == .text }.map { String(decoding: $0.1, as: UTF8.self) }
        #expect(texts.contains { $0.contains(#""type":"ack","id":1,"op":"publish""#) }, "\(texts)")
        #expect(texts.contains { $0.contains(#""type":"error""#) }, "\(texts)")
        let pong: [UInt8] = [0x8A, 125] + [UInt8](repeating: 9, count: 125)
        #expect(replies.indices.contains { replies[$0...].starts(with: pong) }, "the ping was answered")
        // A valid application close code and a UTF-8 reason: echoed.
        raw.send(BadInputCases.close(4999, Array("bye κ".utf8)))
        let close = raw.read(timeout: 5) { SlowConsumerTests.frames($0).contains { $0.0 == .close } }.bytes
        #expect(SlowConsumerTests.frames(close).last.map { $0.0 == .close && $0.1 == [0x13, 0x87] } == true, "close 4999 echoed")
        try calm.carriesOn()
    }

    // MARK: envelopes

    @Test(arguments: BadInputCases.envelopes)
    func badRequestGetsAnErrorAndNothingElseChanges(_ row: EnvelopeCase) throws {
        let server = try LiveServer(row.configure)
        defer { server.stop() }
        let calm = try Bystander(server)
        let offender = try BusClient(port: server.port)
        try offender.subscribe("own.topic")
        let reply = try row.send(offender)
        guard case .error(let code, let message, let id, _, _) = reply else {
            Issue.record("\(row.name): expected an error, got \(reply)"); return
        }
        #expect(code == row.code, "\(row.name): \(message)")
        #expect(id == row.id, "\(row.name): the error carries the request's id")
        // The offending connection is still open, still holds its subscription, still works.
        try calm.publish("own.topic", json: "\"still yours\"")
        guard case .message("own.topic", _, _, let data) = try offender.next() else {
            Issue.record("\(row.name): the offender's subscription survived"); return
        }
        #expect(data == Array("\"still yours\"".utf8))
        // It can still publish (a rate-limited client that slows down carries on, Protocol.md "Limits").
        let answer = try Bystander.patiently { try offender.publish("still.open", json: "1")! }
        guard case .ack(_, "publish", "still.open", _, _, _) = answer else {
            Issue.record("\(row.name): the offender can still publish, got \(answer)"); return
        }
        try calm.carriesOn()
        offender.close()
    }

    @Test func floodingOnAfterRateLimitedIsClosedWith1008() throws {
        let server = try LiveServer { $0.publishRate = 1; $0.publishBurst = 1 }
        defer { server.stop() }
        let calm = try Bystander(server)
        let offender = try BusClient(port: server.port)
        for _ in 0..<(FloodPolicy.tolerance + 10) { try offender.publish("flood.t", json: "1", ack: false) }
        var closed: ClosedByServer?
        while closed == nil {
            do { _ = try offender.next() } catch let error as ClosedByServer { closed = error }
        }
        #expect(closed?.code == 1008)
        try calm.carriesOn()
    }

    /// A subscriber that stops reading overflows its queue: `slow_consumer` naming its last
    /// position, then close 4008. Publishers and other subscribers are not held back.
    @Test func notReadingIsSlowConsumerThen4008() throws {
        let server = try LiveServer {
            $0.loops = 1; $0.maxMessageSize = 16384; $0.sendQueueMessages = 8; $0.socketSendBuffer = 4096
            $0.closeTimeout = 30  // the stalled client reads its close only after the publishing
        }
        defer { server.stop() }
        let calm = try Bystander(server)
        let slow = try RawSocket(port: server.port, receiveBuffer: 4096)
        #expect(slow.upgrade(path: "/bus").hasPrefix("HTTP/1.1 101"))
        slow.sendFrame(.text, Array(#"{"type":"subscribe","id":1,"topic":"slow.topic"}"#.utf8))
        _ = slow.read(timeout: 5) { String(decoding: $0, as: UTF8.self).contains("\"ack\"") }
        let payload = [UInt8](repeating: 7, count: 4000)
        for _ in 0..<200 { try calm.publisher.publish("slow.topic", binary: payload) }
        let tail = slow.read(timeout: 10) { SlowConsumerTests.frames($0).contains { $0.0 == .close } }
        let frames = SlowConsumerTests.frames(tail.bytes)
        #expect(frames.contains { $0.0 == .text && String(decoding: $0.1, as: UTF8.self).contains("\"slow_consumer\"") })
        #expect(frames.last.map { $0.0 == .close && $0.1 == [0x0F, 0xA8] } == true, "close 4008")
        try calm.carriesOn()
    }

    /// Liveness: nothing received, pongs included, for idle_timeout closes the connection.
    @Test func silentPeerIsClosedAfterIdleTimeout() throws {
        let server = try LiveServer { $0.pingInterval = 0.3; $0.idleTimeout = 1 }
        defer { server.stop() }
        // The bystander's client answers pings whenever it reads: it reads all along.
        let calm = try Bystander(server)
        let silent = try RawSocket(port: server.port)
        #expect(silent.upgrade(path: "/bus").hasPrefix("HTTP/1.1 101"))
        let deadline = Sys.monotonicNanos() + 8_000_000_000
        var dropped = false
        while !dropped && Sys.monotonicNanos() < deadline {
            dropped = silent.read(timeout: 0.2).eof
            // Reading answers pings: the bystander's clients stay alive.
            _ = try? calm.subscriber.socket.receive(timeout: 0.01)
            _ = try? calm.publisher.socket.receive(timeout: 0.01)
        }
        #expect(dropped)
        try calm.carriesOn()
    }

    // MARK: plain HTTP (publish and history)

    @Test(arguments: BadInputCases.http)
    func badHTTPRequestGetsAJSONError(_ row: HTTPCase) throws {
        let server = try LiveServer()
        defer { server.stop() }
        let calm = try Bystander(server)
        let raw = try RawSocket(port: server.port)
        raw.send(row.request)
        let reply = HTTPPublishTests.responses(raw, count: 1).first ?? ""
        #expect(reply.hasPrefix("HTTP/1.1 \(row.status) "), "\(row.name): \(reply)")
        #expect(reply.contains("\"code\":\"\(row.code)\""), "\(row.name): \(reply)")
        if row.keepsAlive {
            // The request was read whole, so the connection goes on with the next one.
            raw.send(HTTPPublishTests.post("http.after", "1"))
            let next = HTTPPublishTests.responses(raw, count: 1).first ?? ""
            #expect(next.hasPrefix("HTTP/1.1 200 "), "\(row.name): then \(next)")
        } else {
            #expect(raw.read(timeout: 5).eof, "\(row.name): a request that cannot be skipped ends the connection")
        }
        try calm.carriesOn()
    }

    // MARK: the table and the tests agree

    /// Every answer the Bad input table (and the handshake-failure table) names is what some
    /// case above asserts, so a row added to the document without a test fails here.
    @Test func everyDocumentedAnswerIsExercised() throws {
        let rows = try ProtocolTables.badInputRows()
        #expect(rows.count >= 20)
        for row in rows {
            #expect(!row.answers.isEmpty, "no answer understood in row: \(row.text)")
            for answer in row.answers {
                #expect(BadInputCases.exercised.contains(answer), "not exercised: \(answer) (row: \(row.text))")
            }
        }
        for status in try ProtocolTables.handshakeStatuses() {
            #expect(BadInputCases.exercised.contains(.http(status)), "handshake status \(status) not exercised")
        }
    }
}

// MARK: - the bystander

/// A subscriber and a publisher on `calm.topic`. `carriesOn()` publishes and expects the next
/// message in sequence: nothing was lost, duplicated or renumbered by someone else's bad input.
final class Bystander {
    let subscriber: BusClient
    let publisher: BusClient
    private var epoch = ""
    private var seq: UInt64 = 0

    init(_ server: LiveServer) throws {
        subscriber = try BusClient(port: server.port)
        publisher = try BusClient(port: server.port)
        try subscriber.subscribe("calm.topic")
        try carriesOn()  // a message before the bad input
    }

    /// Publishes with an ack, waiting out the publish rate when a case set a low one.
    @discardableResult
    func publish(_ topic: String, json: String) throws -> ServerMessage {
        try Self.patiently { try publisher.publish(topic, json: json)! }
    }

    /// Repeats `request` while it is refused as `rate_limited`, slowly enough to stay clear of
    /// the flood rule.
    static func patiently(_ request: () throws -> ServerMessage) throws -> ServerMessage {
        var answer = try request()
        for _ in 0..<20 {
            guard case .error("rate_limited", _, _, _, _) = answer else { break }
            usleep(250_000)
            answer = try request()
        }
        return answer
    }

    func carriesOn(sourceLocation: SourceLocation = #_sourceLocation) throws {
        seq += 1
        let data = Array("\"calm \(seq)\"".utf8)
        try publish("calm.topic", json: String(decoding: data, as: UTF8.self))
        let next = try subscriber.next()
        guard case .message("calm.topic", let gotEpoch, let gotSeq, let gotData) = next else {
            Issue.record("bystander got \(next)", sourceLocation: sourceLocation); return
        }
        if seq == 1 { epoch = gotEpoch }
        #expect(gotEpoch == epoch && gotSeq == seq && gotData == data, sourceLocation: sourceLocation)
    }
}
