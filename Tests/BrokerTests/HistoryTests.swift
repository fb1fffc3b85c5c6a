import BusProtocol
import Frames
import Foundation
import Synchronization
import Testing
import Topics
@testable import Broker

/// A publisher on its own thread, publishing "0", "1", … to one topic at a steady rate until
/// stopped (so resumes happen while messages keep arriving).
final class SteadyPublisher: Sendable {
    private let stopped = Atomic<Bool>(false)
    private let done = Mutex<Int?>(nil)

    init(port: UInt16, topic: String, interval: Double = 0.002) {
        Thread.detachNewThread { [self] in
            var sent = 0
            if let client = try? BusClient(port: port) {
                while !stopped.load(ordering: .relaxed) {
                    do { try client.publish(topic, json: String(sent), ack: false) } catch { break }
                    sent += 1
                    Thread.sleep(forTimeInterval: interval)
                }
                _ = try? client.publish(topic, json: "\"end\"")  // acked: everything before it is sequenced
                client.close()
            }
            done.withLock { $0 = sent }
        }
    }

    /// Stops and returns how many numbered messages were published.
    func stop() -> Int {
        stopped.store(true, ordering: .relaxed)
        while true {
            if let sent = done.withLock({ $0 }) { return sent }
            usleep(1000)
        }
    }
}

@Suite(.serialized) struct HistoryTests {
    /// Reads messages until `"end"`, returning their seqs and data.
    static func drain(_ client: BusClient) throws -> [(seq: UInt64, data: String)] {
        var out: [(UInt64, String)] = []
        while true {
            guard case .message(_, _, let seq, let data) = try client.next(timeout: 10) else { continue }
            let text = String(decoding: data, as: UTF8.self)
            if text == "\"end\"" { return out }
            out.append((seq, text))
        }
    }

    static func field(_ name: String, in text: String) -> String? {
        guard let range = text.range(of: "\"\(name)\":") else { return nil }
        let rest = text[range.upperBound...]
        let end = rest.firstIndex { $0 == "," || $0 == "}" } ?? rest.endIndex
        return String(rest[..<end])
    }

    @Test(arguments: [false, true])
    func resumeWhilePublishingHasNoGapAndNoDuplicate(dropTCP: Bool) throws {
        let server = try LiveServer()
        defer { server.stop() }
        let first = try BusClient(port: server.port)
        guard case .ack(_, _, _, let epoch?, _, _) = try first.subscribe("steady") else { Issue.record("ack"); return }
        let publisher = SteadyPublisher(port: server.port, topic: "steady")
        var seen: [UInt64] = []
        while seen.count < 100 {
            if case .message(_, _, let seq, _) = try first.next() { seen.append(seq) }
        }
        if dropTCP { first.socket.abort() } else { first.close() }
        usleep(50_000)  // messages published while away
        let second = try BusClient(port: server.port)
        let ack = try second.resume("steady", #""since":{"epoch":"\#(epoch)","seq":\#(seen.last!)}"#)
        #expect(Self.field("recovered", in: ack) == "true", "\(ack)")
        usleep(50_000)
        let sent = publisher.stop()
        let rest = try Self.drain(second)
        let all = seen + rest.map(\.seq)
        #expect(all == Array(1...UInt64(all.count)), "a gap or a duplicate at the seam")
        #expect(all.count == sent, "received \(all.count) of \(sent)")
        second.close()
    }

    /// A resume and a plain subscribe to the same topic in one read: the plain one's ack
    /// (with the newest seq) comes after the resume's replay, not before it, so a client that
    /// keeps the last ack's seq as its position never skips the replayed messages. (Acks of
    /// topics owned by the connection's loop are sent as their subscribe is handled, issue 18;
    /// not while that connection resumes a topic. Review finding.)
    @Test func aPlainSubscribeBehindAResumeIsAckedAfterItsReplay() throws {
        let server = try LiveServer { $0.loops = 1 }  // the topic's owner is the connection's loop
        defer { server.stop() }
        let publisher = try BusClient(port: server.port)
        var epoch = ""
        for i in 1...10 {
            if case .ack(_, _, _, let e?, _, _) = try publisher.publish("twice", json: String(i)) { epoch = e }
        }
        let client = try BusClient(port: server.port)
        let requests = [#"{"type":"subscribe","id":1,"topic":"twice","since":{"epoch":"\#(epoch)","seq":3}}"#,
                        #"{"type":"subscribe","id":2,"topic":"twice"}"#]
        try client.socket.sendRaw(requests.flatMap { FrameEncoder.encode(opcode: .text, payload: Array($0.utf8), maskKey: .random()) })
        var order: [String] = []
        while !order.contains("ack 2") {
            guard let message = try? client.next() else { break }
            switch message {
            case .ack(let id, _, _, _, _, _): order.append("ack \(id ?? "")")
            case .message(_, _, let seq, _): order.append("message \(seq)")
            default: continue
            }
        }
        #expect(order == ["ack 1"] + (4...10).map { "message \($0)" } + ["ack 2"], "\(order)")
        client.close()
        publisher.close()
    }

    @Test func recoveryIsRefusedWhenHistoryNoLongerHoldsThePosition() throws {
        let server = try LiveServer { $0.historyMessages = 10 }
        defer { server.stop() }
        let publisher = try BusClient(port: server.port)
        var epoch = ""
        for i in 1...30 {
            if case .ack(_, _, _, let e?, _, _) = try publisher.publish("short", json: String(i)) { epoch = e }
        }
        let client = try BusClient(port: server.port)
        let ack = try client.resume("short", #""since":{"epoch":"\#(epoch)","seq":5}"#)
        #expect(Self.field("recovered", in: ack) == "false")
        #expect(ack.contains(#""earliest":{"epoch":"\#(epoch)","seq":21}"#), "\(ack)")
        for expected in UInt64(21)...30 {
            guard case .message(_, _, let seq, _) = try client.next() else { Issue.record("replay"); return }
            #expect(seq == expected)
        }
        try publisher.publish("short", json: "31")
        guard case .message(_, _, 31, _) = try client.next() else { Issue.record("live after replay"); return }
        client.close()
        publisher.close()
    }

    @Test func lastNReplaysTheNewestMessages() throws {
        let server = try LiveServer()
        defer { server.stop() }
        let publisher = try BusClient(port: server.port)
        for i in 1...8 { try publisher.publish("recent", json: String(i)) }
        let client = try BusClient(port: server.port)
        let ack = try client.resume("recent", #""last":3"#)
        #expect(Self.field("recovered", in: ack) == "true" && Self.field("seq", in: ack) == "8", "\(ack)")
        for expected in UInt64(6)...8 {
            guard case .message(_, _, let seq, _) = try client.next() else { Issue.record("replay"); return }
            #expect(seq == expected)
        }
        client.close()
        publisher.close()
    }

    @Test func aPositionFromAnotherEpochIsReportedNotReplayedAsIfCurrent() throws {
        var server = try LiveServer()
        let publisher = try BusClient(port: server.port)
        guard case .ack(_, _, _, let oldEpoch?, _, _) = try publisher.publish("reborn", json: "1") else { Issue.record("ack"); return }
        publisher.close()
        server.stop()
        server = try LiveServer()  // a restart: every topic starts a new epoch
        defer { server.stop() }
        let again = try BusClient(port: server.port)
        guard case .ack(_, _, _, let newEpoch?, 1?, _) = try again.publish("reborn", json: "\"new\"") else { Issue.record("ack"); return }
        #expect(newEpoch != oldEpoch)
        let client = try BusClient(port: server.port)
        let ack = try client.resume("reborn", #""since":{"epoch":"\#(oldEpoch)","seq":1}"#)
        #expect(Self.field("recovered", in: ack) == "false")
        #expect(ack.contains(newEpoch))
        // What the new life retained is replayed, in the new epoch.
        #expect(try client.next() == .message(topic: "reborn", epoch: newEpoch, seq: 1, data: Array("\"new\"".utf8)))
        client.close()
        again.close()
    }

    /// A pattern resumes from a cursor (PatternResumeTests); a topic position names one topic.
    @Test func resumingAPatternFromATopicPositionIsRefused() throws {
        let server = try LiveServer()
        defer { server.stop() }
        let client = try BusClient(port: server.port)
        try client.socket.send(text: #"{"type":"subscribe","id":1,"topic":"a.*","since":{"epoch":"0123456789abcdef","seq":5}}"#)
        guard case .error("resume_requires_topic", _, "1"?, _, _) = try client.next() else { Issue.record("error"); return }
        client.close()
    }

    /// With one loop the topic's owner is the subscriber's own loop, and each next page is
    /// handed over at the very end of a turn (a regression: every page then waited for the
    /// next 250 ms timer tick, 62 pages about 15 s).
    @Test(arguments: [1, 2])
    func longReplaysArePagedAndLandInOrderBeforeLiveMessages(loops: Int) throws {
        let server = try LiveServer { $0.loops = loops; $0.historyMessages = 3000; $0.sendQueueMessages = 64 }
        defer { server.stop() }
        let started = Date()
        defer { #expect(Date().timeIntervalSince(started) < 5, "62 pages should not wait for timer ticks") }
        let publisher = try BusClient(port: server.port)
        for i in 0..<2000 { try publisher.publish("paged", json: String(i), ack: i == 1999) }
        let client = try BusClient(port: server.port)
        let ack = try client.resume("paged", #""last":2000"#)
        #expect(Self.field("recovered", in: ack) == "true", "\(ack)")
        try publisher.publish("paged", json: "\"end\"")
        let replayed = try Self.drain(client)
        #expect(replayed.map(\.seq) == Array(1...2000))
        client.close()
        publisher.close()
    }

    @Test func slowConsumerResumesFromThePositionItWasGiven() throws {
        let server = try ServerProcess(["--socket-send-buffer", "16384", "--send-queue-messages", "32", "--history-messages", "1000"])
        defer { server.stop() }
        let slow = try RawSocket(port: server.port, receiveBuffer: 4096)
        #expect(slow.upgrade(path: "/bus").hasPrefix("HTTP/1.1 101"))
        slow.sendFrame(.text, Array(#"{"type":"subscribe","id":1,"topic":"lossy"}"#.utf8))
        _ = slow.read(timeout: 5) { String(decoding: $0, as: UTF8.self).contains("\"ack\"") }
        let publisher = try BusClient(port: server.port)
        let body = "\"" + String(repeating: "y", count: 500) + "\""
        for _ in 0..<400 { try publisher.publish("lossy", json: body, ack: false) }
        try publisher.publish("lossy", json: body)
        let tail = slow.read(timeout: 10) { SlowConsumerTests.frames($0).contains { $0.0 == .close } }
        let frames = SlowConsumerTests.frames(tail.bytes)
        guard let error = frames.map({ String(decoding: $0.1, as: UTF8.self) }).first(where: { $0.contains("slow_consumer") }),
              let seq = Self.field("seq", in: error), let epochField = Self.field("epoch", in: error) else {
            Issue.record("no slow_consumer error"); return
        }
        let resumed = try BusClient(port: server.port)
        let ack = try resumed.resume("lossy", #""since":{"epoch":\#(epochField),"seq":\#(seq)}"#)
        #expect(Self.field("recovered", in: ack) == "true", "\(ack)")
        var next = UInt64(seq)! + 1
        while next <= 401 {
            guard case .message(_, _, let got, _) = try resumed.next() else { continue }
            #expect(got == next)
            next += 1
        }
        resumed.close()
        publisher.close()
    }

    @Test func httpHistoryReturnsPayloadsWithoutEnvelopes() throws {
        let server = try LiveServer()
        defer { server.stop() }
        let publisher = try BusClient(port: server.port)
        try publisher.publish("h.t", json: #"{"n":1}"#)
        try publisher.publish("h.t", binary: [0xFF, 0x00])
        let raw = try RawSocket(port: server.port)
        raw.send("GET /history/h.t?limit=10 HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        let reply = HTTPPublishTests.responses(raw, count: 1).first ?? ""
        #expect(reply.hasPrefix("HTTP/1.1 200"))
        #expect(reply.contains(#""messages":[{"seq":1,"data":{"n":1}},{"seq":2,"binary":"/wA="}]"#), "\(reply)")
        raw.send("GET /history/h.* HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        #expect(HTTPPublishTests.responses(raw, count: 1).first?.contains("resume_requires_topic") == true)
        publisher.close()
    }
}

/// History memory stays within its budget whatever the number of topics.
@Suite struct HistoryLedgerTests {
    static func frame(_ topic: TopicName, seq: UInt64, size: Int) -> OutboundBytes {
        let payload = [UInt8](repeating: 0x31, count: size)
        return payload.withUnsafeBytes {
            DeliveryFrame.make(kind: .json, topic: topic, position: TopicPosition(epoch: "e", seq: seq), payload: $0, arrival: 0)
        }
    }

    @Test func manyTopicsStayWithinTheByteBudget() throws {
        var table = TopicTable(capacity: 100_000)
        var ledger = HistoryLedger(budget: 1 << 20, longestAge: 120_000_000_000)
        let policy = HistoryPolicy(messages: 100, maxAge: 120)
        for i in 0..<20_000 {
            let topic = try TopicName("t.\(i)")
            let (state, _) = table.state(for: topic, policy: policy)
            for seq in 1...3 { ledger.retain(Self.frame(topic, seq: UInt64(seq), size: 100), in: state, now: UInt64(i)) }
        }
        #expect(ledger.bytes <= 1 << 20)
        #expect(ledger.messages > 0)
    }

    /// Another encoding made after a message was retained (a compressed copy, an event) is
    /// charged while the message is held, pushes older messages out past the budget, and is
    /// given back with the message; a charge for a message no longer held is ignored.
    @Test func encodingsMadeLaterCountWhileTheirMessageIsHeld() throws {
        var table = TopicTable(capacity: 10)
        var ledger = HistoryLedger(budget: 1_000, longestAge: 120_000_000_000)
        let policy = HistoryPolicy(messages: 100, maxAge: 120)
        let topic = try TopicName("t")
        let state = table.state(for: topic, policy: policy).state
        let frames = (1...3).map { Self.frame(topic, seq: UInt64($0), size: 200) }
        for frame in frames { ledger.retain(frame, in: state, now: 1) }
        let plain = frames.reduce(0) { $0 + $1.count }
        #expect(ledger.bytes == plain && ledger.messages == 3)
        ledger.charge(frames[1], bytes: 100, in: state)
        #expect(ledger.bytes == plain + 100)
        // Past the budget: the oldest message goes.
        let extra = 1_000 - plain - 100 + 1
        ledger.charge(frames[2], bytes: extra, in: state)
        #expect(ledger.messages == 2 && ledger.bytes == plain - frames[0].count + 100 + extra)
        let unrelated = Self.frame(topic, seq: 2, size: 200)
        ledger.charge(unrelated, bytes: 50, in: state)  // same seq, another frame: not held
        ledger.charge(frames[0], bytes: 50, in: state)  // dropped already
        #expect(state.history.bytes == ledger.bytes)
        // The charged messages take their charges with them.
        ledger.forget(state)
        #expect(ledger.bytes == 0 && ledger.messages == 0)
    }

    @Test func idleTopicsExpireAndEvictedStatesReleaseTheirHistory() throws {
        var table = TopicTable(capacity: 2)
        var ledger = HistoryLedger(budget: 1 << 30, longestAge: 1_000)
        let policy = HistoryPolicy(messages: 10, maxAge: 0.000001)
        let a = try TopicName("a"), b = try TopicName("b"), c = try TopicName("c")
        let stateA = table.state(for: a, policy: policy).state
        ledger.retain(Self.frame(a, seq: 1, size: 10), in: stateA, now: 0)
        let stateB = table.state(for: b, policy: policy).state
        ledger.retain(Self.frame(b, seq: 1, size: 10), in: stateB, now: 500)
        let (_, evicted) = table.state(for: c, policy: policy)
        #expect(evicted === stateA)
        ledger.forget(evicted!)
        #expect(ledger.messages == 1)
        ledger.sweep(now: 1_600)
        #expect(ledger.messages == 0 && ledger.bytes == 0)
    }

    @Test func aTopicStateCreatedAgainGetsANewEpoch() throws {
        var table = TopicTable(capacity: 1)
        let policy = HistoryPolicy(messages: 0, maxAge: 1)
        let x = try TopicName("x"), y = try TopicName("y")
        let first = table.state(for: x, policy: policy).state.epoch
        _ = table.state(for: y, policy: policy)  // evicts x
        #expect(table.state(for: x, policy: policy).state.epoch != first)
    }
}


/// GET /history answers are written straight into one buffer sized beforehand.
@Suite struct HistoryResponseTests {
    @Test(arguments: [0, 1, 9, 10, 99_999, 100_000])
    func theAnswerIsSizedExactlyForEveryKindAndSeq(seq base: Int) throws {
        let topic = try TopicName("t", limits: TopicLimits())
        var frames: [OutboundBytes] = []
        for (offset, kind) in [PayloadKind.json, .binary, .binary, .json].enumerated() {
            let payload: [UInt8] = kind == .json ? Array("{\"n\":\(offset)}".utf8) : Array(repeating: UInt8(offset), count: offset)
            let position = TopicPosition(epoch: "e1", seq: UInt64(base + offset + 1))
            frames.append(OutboundBytes.make(count: payload.count + 2, stamp: DeliveryStamp(topic: topic, position: position, kind: kind,
                                                                                         payload: 2..<(payload.count + 2), arrival: 0)) {
                $0[0] = 0; $0[1] = 0
                for (index, byte) in payload.enumerated() { $0[index + 2] = byte }
            })
        }
        let page = ReplayPage(token: 1, frames: frames, position: TopicPosition(epoch: "e1", seq: UInt64(base + 9)), recovered: true,
                              earliest: TopicPosition(epoch: "e1", seq: UInt64(base + 1)), done: false)
        let bytes = HistoryResponse.make(page, topic: topic).withUnsafeBytes { Array($0) }
        let text = String(decoding: bytes, as: UTF8.self)
        let body = try #require(text.split(separator: "\r\n\r\n", maxSplits: 1).last)
        #expect(text.contains("Content-Length: \(body.utf8.count)\r\n"))
        #expect(body.hasSuffix("]}\n"))
        #expect(body.contains("\"more\":true"))
        #expect(body.contains("{\"seq\":\(base + 1),\"data\":{\"n\":0}}"))
        #expect(body.contains("{\"seq\":\(base + 3),\"binary\":\"AgI=\"}"))
        #expect(body.contains("{\"seq\":\(base + 2),\"binary\":\"AQ==\"}"))
    }
}
