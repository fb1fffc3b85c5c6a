import Frames
import Glibc
import Testing
@testable import Broker
@testable import Topics

/// What an idle subscribed connection and a topic with no message hold (issue 18, memory):
/// nothing allocated that is not in use, and nothing left once they are gone. The byte budget
/// these guard is in bench/README.md ("idle connections and topics").
@Suite struct IdleMemoryTests {
    // MARK: topics

    /// A topic per user or per room would otherwise keep a state for every topic anyone ever
    /// subscribed to, until `--max-topics` evicts it (37 MB for 10,000 of them, `bench idle`).
    @Test func aTopicThatNeverHadAMessageIsForgottenOnceItsLastSubscriberLeaves() throws {
        let server = try LiveServer()  // two loops: topics owned by either
        defer { server.stop() }
        let first = try BusClient(port: server.port)
        let second = try BusClient(port: server.port)
        let topics = (0..<20).map { "idle.forget.t\($0)" }
        for topic in topics {
            try first.subscribe(topic)
            try second.subscribe(topic)
        }
        try first.subscribe("idle.kept")
        try first.publish("idle.kept", json: "1")
        _ = try first.next()  // its own message
        #expect(try Self.topicStates(server) == topics.count + 1)
        for topic in topics { try first.unsubscribe(topic) }
        #expect(try Self.topicStates(server) == topics.count + 1, "the other subscriber still holds them")
        second.close()
        first.close()
        // The topic with a message keeps its epoch and seq for resumes while history holds it.
        #expect(eventually { (try? Self.topicStates(server)) == 1 })
    }

    @Test func aHistoryRequestForATopicWithNoMessageAndNoSubscriberLeavesNoState() throws {
        let server = try LiveServer()
        defer { server.stop() }
        for n in 0..<10 { #expect(try HTTPResult(port: server.port, "/history/idle.nobody.t\(n)").status == 200) }
        #expect(eventually { (try? Self.topicStates(server)) == 0 })
    }

    /// Forgetting loses nothing a client holds: the same epoch comes back (until a state that
    /// may have had messages is evicted or renewed), so a resume from seq 0 is complete.
    @Test func aForgottenTopicComesBackWithTheEpochItsSubscribersWereGiven() throws {
        let server = try LiveServer()
        defer { server.stop() }
        let client = try BusClient(port: server.port)
        defer { client.close() }
        guard case .ack(_, _, _, let epoch?, 0?, _) = try client.subscribe("idle.again") else {
            Issue.record("expected a subscribe ack with a position")
            return
        }
        try client.unsubscribe("idle.again")
        #expect(eventually { (try? Self.topicStates(server)) == 0 })
        let ack = try client.resume("idle.again", "\"since\":{\"epoch\":\"\(epoch)\",\"seq\":0}")
        #expect(ack.contains("\"epoch\":\"\(epoch)\""))
        #expect(ack.contains("\"recovered\":true"))
    }

    @Test func epochsRepeatWithinAGenerationAndChangeAfterAnEvictionOrRenewal() throws {
        var table = TopicTable(capacity: 2)
        let policy = HistoryPolicy(messages: 10, maxAge: 60)
        let a = try TopicName("a"), b = try TopicName("b"), c = try TopicName("c")
        let epoch = table.state(for: a, policy: policy).state.epoch
        #expect(epoch.utf8.count == 15, "fits a String's inline storage")
        let forgotten = table.forgetIfNeverPublished(a)
        #expect(forgotten && table.count == 0)
        #expect(table.state(for: a, policy: policy).state.epoch == epoch)
        table.state(for: a, policy: policy).state.seq = 3
        let kept = !table.forgetIfNeverPublished(a)
        #expect(kept, "a topic that had messages is kept")
        _ = table.state(for: b, policy: policy)
        _ = table.state(for: c, policy: policy)  // evicts a, which had messages
        #expect(table.peek(a) == nil)
        #expect(table.state(for: a, policy: policy).state.epoch != epoch)
        let renewedFrom = table.state(for: b, policy: policy).state.epoch
        let renewed = table.renew(b, policy: policy).state.epoch
        #expect(renewed != renewedFrom)
    }

    /// The history ring (and everything else a message brings) is allocated by the first
    /// message, not when a subscriber makes the topic's state.
    @Test func aTopicStateHoldsNoHistoryStorageBeforeItsFirstMessage() throws {
        var table = TopicTable(capacity: 10)
        let state = table.state(for: try TopicName("idle.ring"), policy: HistoryPolicy(messages: 100, maxAge: 120)).state
        #expect(!state.holdsPublishedState)
        #expect(state.history.isEmpty)
        #expect(state.lastOffset == 0 && state.recency.isEmpty && state.ledger.isEmpty)
        #expect(!state.holdsPublishedState, "reads allocate nothing")
        var ledger = HistoryLedger(budget: 1 << 20, longestAge: 120_000_000_000)
        let frame = OutboundBytes.copying([1, 2, 3])
        ledger.retain(frame, in: state, now: 1)
        #expect(state.holdsPublishedState)
        #expect(state.history.count == 1 && state.history.capacity == 100, "made on first use, with the policy's capacity")
    }

    // MARK: connections

    /// The upgrade's 101 and the ack of a subscribe sent right behind it are queued together:
    /// two entries stay inline; a third allocates the ring, which an idle queue gives back.
    @Test func aSendQueueAllocatesNoRingForUpToTwoEntriesAndGivesItBackWhenIdle() {
        var queue = SendQueue()
        queue.append(SendQueueTests.bytes(1, 3))
        queue.append(SendQueueTests.bytes(2, 3))
        #expect(queue.ringCapacity == 0)
        #expect(SendQueueTests.drain(&queue, chunk: 2) == [1, 1, 1, 2, 2, 2])
        for tag in 3...5 { queue.append(SendQueueTests.bytes(UInt8(tag), 1)) }
        #expect(queue.ringCapacity == 4)
        queue.releaseIdleStorage()
        #expect(queue.ringCapacity == 4, "a queue holding entries keeps its ring")
        #expect(SendQueueTests.drain(&queue, chunk: 1) == [3, 4, 5])
        queue.releaseIdleStorage()
        #expect(queue.ringCapacity == 0)
        queue.append(SendQueueTests.bytes(6, 1))
        #expect(SendQueueTests.drain(&queue, chunk: 1) == [6])
    }

    /// A partial frame's decoder is kept only while the frame is incomplete: every split of a
    /// frame, and of a fragmented message, across two reads still arrives whole.
    @Test(arguments: [false, true])
    func aFrameSplitAtEveryByteAcrossReadsArrivesWhole(fragmented: Bool) throws {
        let server = try LiveServer()
        defer { server.stop() }
        let raw = try RawSocket(port: server.port)
        raw.send(BadInputCases.request("GET", "/echo"))
        let head = raw.read { String(decoding: $0, as: UTF8.self).contains("\r\n\r\n") }
        #expect(String(decoding: head.bytes, as: UTF8.self).hasPrefix("HTTP/1.1 101"))
        let text = Array("split at every byte".utf8)
        let wire = fragmented
            ? FrameEncoder.encode(opcode: .text, fin: false, payload: Array(text[..<5]), maskKey: .random())
                + FrameEncoder.encode(opcode: .continuation, payload: Array(text[5...]), maskKey: .random())
            : FrameEncoder.encode(opcode: .text, payload: text, maskKey: .random())
        let echo = FrameEncoder.encode(opcode: .text, payload: text)
        for split in 1..<wire.count {
            raw.send(Array(wire[..<split]))
            usleep(1000)  // not a wait for an outcome: lets the server read the first part alone
            raw.send(Array(wire[split...]))
            let reply = raw.read { $0.count >= echo.count }
            #expect(reply.bytes == echo, "split at \(split)")
        }
    }
}

extension IdleMemoryTests {
    static func topicStates(_ server: LiveServer) throws -> Int {
        Int(try HTTPResult(port: server.port, "/metrics").sample("bus_topics") ?? -1)
    }
}
