import BusProtocol
import Foundation
import Synchronization
import Testing
import Topics
@testable import Broker

/// A client's side of a cursor subscription (Protocol.md "Resuming a pattern"): the last
/// cursor and the positions received after it, and what it received per topic.
struct CursorFollower {
    var cursor = ""
    var positions: [String: (epoch: String, seq: UInt64)] = [:]
    var received: [String: [UInt64]] = [:]
    var data: [String: [String]] = [:]

    mutating func take(_ message: ServerMessage) {
        switch message {
        case .message(let topic, let epoch, let seq, let bytes):
            positions[topic] = (epoch, seq)
            received[topic, default: []].append(seq)
            data[topic, default: []].append(String(decoding: bytes, as: UTF8.self))
        case .checkpoint(_, let cursor):
            self.cursor = cursor
            positions = [:]
        default:
            break
        }
    }

    /// The `since` member of a resume from here.
    var since: String {
        let held = positions.map { #"{"topic":\#(JSONText.quoted($0.key)),"epoch":"\#($0.value.epoch)","seq":\#($0.value.seq)}"# }
        return #""since":{"cursor":"\#(cursor)","positions":[\#(held.joined(separator: ","))]}"#
    }
}

/// Publishes "0", "1", … round-robin to `topics(n)` from its own thread until stopped, then
/// an acked `"end"` to every topic it used.
final class RoundRobinPublisher: Sendable {
    private let stopped = Atomic<Bool>(false)
    private let done = Mutex<Set<String>?>(nil)

    init(port: UInt16, interval: Double = 0.001, topics: @escaping @Sendable (Int) -> String) {
        Thread.detachNewThread { [self] in
            var used: Set<String> = []
            if let client = try? BusClient(port: port) {
                var sent = 0
                while !stopped.load(ordering: .relaxed) {
                    let topic = topics(sent)
                    used.insert(topic)
                    do { try client.publish(topic, json: String(sent), ack: false) } catch { break }
                    sent += 1
                    Thread.sleep(forTimeInterval: interval)
                }
                for topic in used.sorted() { _ = try? client.publish(topic, json: "\"end\"") }
                client.close()
            }
            done.withLock { $0 = used }
        }
    }

    /// Stops; returns the topics published to.
    func stop() -> Set<String> {
        stopped.store(true, ordering: .relaxed)
        while true {
            if let used = done.withLock({ $0 }) { return used }
            usleep(1000)
        }
    }
}

@Suite(.serialized) struct PatternResumeTests {
    static func cursor(inAck text: String) -> String? { ServerMessage.stringField("cursor", in: text) }

    /// Subscribes to `pattern` with checkpoints; returns the follower and the ack's text.
    static func follow(_ client: BusClient, _ pattern: String) throws -> (CursorFollower, String) {
        let ack = try client.resume(pattern, #""checkpoints":true"#)
        var follower = CursorFollower()
        follower.cursor = cursor(inAck: ack) ?? ""
        return (follower, ack)
    }

    /// Reads until every topic in `topics` has delivered `"end"`.
    static func readUntilEnd(_ client: BusClient, _ follower: inout CursorFollower, topics: Set<String>) throws {
        var ended: Set<String> = []
        while ended != topics {
            let message = try client.next(timeout: 10)
            if case .message(let topic, _, _, let data) = message, data == Array("\"end\"".utf8) { ended.insert(topic) }
            follower.take(message)
        }
    }

    @Test func aPatternAckAndCheckpointsCarryACursor() throws {
        let server = try LiveServer()
        defer { server.stop() }
        let client = try BusClient(port: server.port)
        let (follower, ack) = try Self.follow(client, "chat.>")
        let cursor = try #require(Cursor(parsing: follower.cursor), "ack: \(ack)")
        #expect(cursor.offsets.count == 2)
        let publisher = try BusClient(port: server.port)
        try publisher.publish("chat.a", json: "1")
        guard case .message(let topic, _, _, _) = try client.next() else { Issue.record("no message"); return }
        #expect(topic == "chat.a")
        guard case .checkpoint(let pattern, let text) = try client.next() else { Issue.record("no checkpoint"); return }
        #expect(pattern == "chat.>")
        let after = try #require(Cursor(parsing: text))
        #expect(after.epoch == cursor.epoch)
        #expect(after.offsets.reduce(0, +) > cursor.offsets.reduce(0, +), "the cursor moved past the message")
    }

    @Test func aPlainPatternSubscribeIsUnchanged() throws {
        let server = try LiveServer()
        defer { server.stop() }
        let client = try BusClient(port: server.port)
        let ack = try client.resume("chat.>", #""checkpoints":false"#)
        #expect(ack == #"{"type":"ack","id":"r1","op":"subscribe","topic":"chat.>"}"#)
        let publisher = try BusClient(port: server.port)
        try publisher.publish("chat.a", json: "1")
        try publisher.publish("chat.a", json: "\"end\"")
        guard case .message = try client.next() else { Issue.record("no message"); return }
        guard case .message = try client.next() else { Issue.record("a checkpoint without asking"); return }
    }

    /// The issue's scenario: cut off while messages go to existing and new matching topics on
    /// both owner loops, resumed while publishing goes on, each message exactly once in order.
    @Test(arguments: [(false, 2), (true, 2), (true, 3)])
    func aResumedPatternGetsEveryMessageOnceInOrder(dropTCP: Bool, loops: Int) throws {
        let server = try LiveServer { $0.loops = loops }
        defer { server.stop() }
        let first = try BusClient(port: server.port)
        var (follower, _) = try Self.follow(first, "chat.>")
        // Sixteen topics (both loops own some); from message 300 on, eight more appear.
        let publisher = RoundRobinPublisher(port: server.port) { n in
            n < 300 ? "chat.room\(n % 16)" : (n % 2 == 0 ? "chat.room\(n % 16)" : "chat.new\(n % 8)")
        }
        var count = 0
        while count < 150 {
            let message = try first.next(timeout: 10)
            if case .message = message { count += 1 }
            follower.take(message)
        }
        if dropTCP { first.socket.abort() } else { first.close() }
        Thread.sleep(forTimeInterval: 0.4)  // new topics appear meanwhile
        let second = try BusClient(port: server.port)
        let ack = try second.resume("chat.>", follower.since)
        #expect(ServerMessage.stringField("cursor", in: ack) != nil, "\(ack)")
        #expect(ack.contains(#""recovered":true"#), "\(ack)")
        Thread.sleep(forTimeInterval: 0.1)
        let topics = publisher.stop()
        try Self.readUntilEnd(second, &follower, topics: topics)
        #expect(topics.contains("chat.new1"))
        for topic in topics {
            let seqs = follower.received[topic] ?? []
            #expect(seqs == Array(1...UInt64(seqs.count)), "\(topic): a gap or a duplicate")
        }
    }

    @Test func historyThatNoLongerHoldsAMessageSaysWhichTopicLostIt() throws {
        let server = try LiveServer { $0.historyMessages = 3 }
        defer { server.stop() }
        let first = try BusClient(port: server.port)
        var (follower, _) = try Self.follow(first, "chat.>")
        let publisher = try BusClient(port: server.port)
        try publisher.publish("chat.kept", json: "1")
        try publisher.publish("chat.busy", json: "1")
        for _ in 0..<2 { follower.take(try first.next()) }
        while let message = try? first.next(timeout: 0.3) { follower.take(message) }  // settle
        first.close()
        try publisher.publish("chat.kept", json: "2")
        for n in 2...10 { try publisher.publish("chat.busy", json: String(n)) }
        let second = try BusClient(port: server.port)
        let ack = try second.resume("chat.>", follower.since)
        #expect(ack.contains(#""recovered":false"#), "\(ack)")
        #expect(ack.contains(#""lost":[{"topic":"chat.busy","earliest":{"#), "\(ack)")
        #expect(!ack.contains(#""topic":"chat.kept""#), "\(ack)")
        var got: [String: [String]] = [:]
        while got["chat.busy"]?.count != 3 || got["chat.kept"]?.count != 1 {
            if case .message(let topic, _, _, let data) = try second.next() { got[topic, default: []].append(String(decoding: data, as: UTF8.self)) }
        }
        #expect(got["chat.busy"] == ["8", "9", "10"])
        #expect(got["chat.kept"] == ["2"])
    }

    @Test func aCursorFromAnotherServerLifeIsNotARecovery() throws {
        let server = try LiveServer()
        defer { server.stop() }
        let publisher = try BusClient(port: server.port)
        try publisher.publish("chat.a", json: "1")
        let client = try BusClient(port: server.port)
        let ack = try client.resume("chat.>", #""since":{"cursor":"0123456789abcdef.5.5"}"#)
        #expect(ack.contains(#""recovered":false"#), "\(ack)")
        guard case .message(let topic, _, let seq, _) = try client.next() else { Issue.record("no replay"); return }
        #expect(topic == "chat.a" && seq == 1, "everything retained is replayed")
    }

    @Test func lastOnAPatternReplaysTheNewestOfEachTopic() throws {
        let server = try LiveServer()
        defer { server.stop() }
        let publisher = try BusClient(port: server.port)
        for n in 1...5 {
            try publisher.publish("chat.a", json: String(n))
            try publisher.publish("chat.b", json: String(n))
        }
        let client = try BusClient(port: server.port)
        let ack = try client.resume("chat.>", #""last":2"#)
        #expect(ack.contains(#""recovered":true"#), "\(ack)")
        var got: [String: [UInt64]] = [:]
        while (got["chat.a"]?.count ?? 0) + (got["chat.b"]?.count ?? 0) < 4 {
            if case .message(let topic, _, let seq, _) = try client.next() { got[topic, default: []].append(seq) }
        }
        #expect(got["chat.a"] == [4, 5] && got["chat.b"] == [4, 5])
    }

    @Test(arguments: [
        (#""since":{"cursor":"nope"}"#, "malformed cursor"),
        (#""since":{"cursor":"0123456789abcdef.1","epoch":"x"}"#, "with a cursor"),
        (#""since":{"cursor":"0123456789abcdef.1","positions":[{"topic":"a"}]}"#, "each position"),
        (#""since":{"cursor":"0123456789abcdef.1","positions":{}}"#, "must be an array"),
        (#""since":{"epoch":"0123456789abcdef","seq":1}"#, "resumes from a cursor"),
        (#""checkpoints":1"#, "true or false"),
    ])
    func badPatternResumesAreRefused(member: String, expected: String) throws {
        let server = try LiveServer()
        defer { server.stop() }
        let client = try BusClient(port: server.port)
        _ = try client.resume("chat.>", member)
        #expect(client.lastText.contains(#""type":"error""#) && client.lastText.contains(expected), "\(client.lastText)")
    }

    /// Two paged replays on one connection at once (a topic and a pattern): each used to take
    /// the connection's one "next page when drained" slot from the other, which then stalled;
    /// and their pages, half a queue each, together overflowed a slowly written queue (a
    /// small socket buffer) and dropped the subscriber. Now they take turns.
    @Test func aTopicAndAPatternResumeTogetherOnOneConnection() throws {
        let server = try LiveServer { $0.sendQueueMessages = 8; $0.historyMessages = 1000; $0.socketSendBuffer = 4096 }
        defer { server.stop() }
        let publisher = try BusClient(port: server.port)
        let big = "\"" + String(repeating: "x", count: 32 << 10) + "\""
        var epoch = ""
        for _ in 0..<60 {
            if case .ack(_, _, _, let got?, _, _)? = try publisher.publish("lit", json: big) { epoch = got }
            try publisher.publish("p.q", json: big)
        }
        let client = try BusClient(port: server.port)
        try client.socket.send(text: #"{"type":"subscribe","id":"a","topic":"lit","since":{"epoch":"\#(epoch)","seq":3}}"#)
        try client.socket.send(text: #"{"type":"subscribe","id":"b","topic":"p.>","last":60}"#)
        var counts: [String: Set<UInt64>] = [:]
        while counts["lit", default: []].count < 57 || counts["p.q", default: []].count < 60 {
            if case .message(let topic, _, let seq, _) = try client.next(timeout: 10) { counts[topic, default: []].insert(seq) }
        }
        #expect(counts["lit"] == Set(4...60) && counts["p.q"] == Set(1...60))
    }
}
