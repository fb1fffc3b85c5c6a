import Testing
import Topics
@testable import HistoryStore

@Suite struct HistoryRecoveryTests {
    static let hour: UInt64 = 3_600_000_000_000
    static let now: UInt64 = 1_700_000_000_000_000_000

    static func recovery(messages: Int = 100, budget: Int = 1 << 20) -> HistoryRecovery {
        HistoryRecovery(maxBodyLength: 1 << 20, limits: .default, byteBudget: budget) { _ in (messages, hour) }
    }

    static func segment(_ messages: [StoredMessage]) -> [UInt8] {
        var bytes = RecordCodec.header()
        for message in messages { RecordCodec.encode(message, into: &bytes) }
        return bytes
    }

    static func messages(_ topic: String, epoch: String = "e1", seqs: ClosedRange<UInt64>, wall: UInt64 = now) -> [StoredMessage] {
        seqs.map { StoredMessage(topic: try! TopicName(topic), epoch: epoch, seq: $0, wallNanos: wall + $0, offset: $0, kind: .json,
                                 payload: Array(String($0).utf8)) }
    }

    static func scan(_ recovery: inout HistoryRecovery, _ bytes: [UInt8]) throws -> HistoryRecovery.Cut? {
        try bytes.withUnsafeBytes { try recovery.scan(segment: $0) }
    }

    @Test func trustedSegmentsContinueEveryTopic() throws {
        var recovery = Self.recovery()
        #expect(try Self.scan(&recovery, Self.segment(Self.messages("a", seqs: 1...3) + Self.messages("b", seqs: 1...2))) == nil)
        #expect(try Self.scan(&recovery, Self.segment(Self.messages("a", seqs: 4...5))) == nil)
        let topics = recovery.finish(trusted: true, nowWall: Self.now + 10) { "new" }
        #expect(topics.map(\.topic.string) == ["a", "b"])
        #expect(topics[0].epoch == "e1" && topics[0].seq == 5 && topics[0].continued)
        #expect(topics[0].messages.map(\.seq) == [1, 2, 3, 4, 5])
        #expect(topics[1].messages.map(\.seq) == [1, 2])
    }

    @Test func tornTailIsCutAtTheLastWholeRecord() throws {
        var recovery = Self.recovery()
        let whole = Self.segment(Self.messages("a", seqs: 1...3))
        let torn = whole + Array(Self.segment(Self.messages("a", seqs: 4...4)).dropFirst(RecordCodec.headerSize).prefix(10))
        let cut = try Self.scan(&recovery, torn)
        #expect(cut == HistoryRecovery.Cut(validLength: whole.count, reason: .torn))
        #expect(recovery.finish(trusted: true, nowWall: Self.now) { "x" }[0].seq == 3)
    }

    /// A corrupt record in the middle: it and everything after it are cut, never served.
    @Test func corruptRecordCutsTheRestOfTheSegment() throws {
        var recovery = Self.recovery()
        var bytes = Self.segment(Self.messages("a", seqs: 1...5))
        let second = RecordCodec.headerSize + RecordCodec.encodedSize(Self.messages("a", seqs: 1...1)[0])
        bytes[second + 20] ^= 0x40
        let cut = try Self.scan(&recovery, bytes)
        #expect(cut == HistoryRecovery.Cut(validLength: second, reason: .invalid(.checksumMismatch)))
        let topics = recovery.finish(trusted: true, nowWall: Self.now) { "x" }
        #expect(topics[0].messages.map(\.seq) == [1])
    }

    @Test func nonIncreasingSeqCutsTheSegment() throws {
        var recovery = Self.recovery()
        let good = Self.segment(Self.messages("a", seqs: 1...3))
        var bytes = good
        RecordCodec.encode(Self.messages("a", seqs: 3...3)[0], into: &bytes)
        RecordCodec.encode(Self.messages("a", seqs: 4...4)[0], into: &bytes)
        #expect(try Self.scan(&recovery, bytes) == HistoryRecovery.Cut(validLength: good.count, reason: .invalid(.seqNotIncreasing(3))))
        #expect(recovery.finish(trusted: true, nowWall: Self.now) { "x" }[0].seq == 3)
    }

    @Test func gapStartsANewEpochWithMessagesRenumbered() throws {
        var recovery = Self.recovery()
        _ = try Self.scan(&recovery, Self.segment(Self.messages("a", seqs: 1...3) + Self.messages("a", seqs: 7...8)))
        let topic = recovery.finish(trusted: true, nowWall: Self.now) { "fresh" }[0]
        #expect(!topic.continued && topic.epoch == "fresh" && topic.seq == 2)
        #expect(topic.messages.map(\.seq) == [1, 2])
        #expect(topic.messages.map { String(decoding: $0.payload, as: UTF8.self) } == ["7", "8"])
    }

    @Test func untrustedTailsStartNewEpochs() throws {
        var recovery = Self.recovery()
        _ = try Self.scan(&recovery, Self.segment(Self.messages("a", seqs: 1...3)))
        let topic = recovery.finish(trusted: false, nowWall: Self.now) { "fresh" }[0]
        #expect(!topic.continued && topic.epoch == "fresh" && topic.messages.map(\.seq) == [1, 2, 3])
    }

    @Test func laterEpochReplacesEarlierLife() throws {
        var recovery = Self.recovery()
        _ = try Self.scan(&recovery, Self.segment(Self.messages("a", seqs: 1...3) + Self.messages("a", epoch: "e2", seqs: 1...2)))
        let topic = recovery.finish(trusted: true, nowWall: Self.now) { "x" }[0]
        #expect(topic.epoch == "e2" && topic.seq == 2 && topic.messages.map(\.seq) == [1, 2])
    }

    @Test func policyAndAgeBoundWhatIsKept() throws {
        var recovery = Self.recovery(messages: 3)
        _ = try Self.scan(&recovery, Self.segment(Self.messages("a", seqs: 1...10)))
        #expect(recovery.finish(trusted: true, nowWall: Self.now)  { "x" }[0].messages.map(\.seq) == [8, 9, 10])
        let aged = recovery.finish(trusted: true, nowWall: Self.now + Self.hour + 9) { "x" }[0]
        #expect(aged.seq == 10 && aged.messages.map(\.seq) == [9, 10], "older than the policy's age at the new start")
    }

    @Test func positionRecordsKeepTheSeqAndDropStaleMessages() throws {
        var recovery = Self.recovery()
        var bytes = Self.segment(Self.messages("a", seqs: 1...2))
        RecordCodec.encode(StoredMessage(topic: try TopicName("a"), epoch: "e1", seq: 3, wallNanos: Self.now, offset: 0, kind: .position, payload: []),
                           into: &bytes)
        _ = try Self.scan(&recovery, bytes)
        let topic = recovery.finish(trusted: true, nowWall: Self.now) { "x" }[0]
        #expect(topic.seq == 3 && topic.continued && topic.messages.isEmpty)
    }

    @Test func retainedBytesStayWithinTheBudget() throws {
        var recovery = Self.recovery(messages: 1000, budget: 1000)
        for topic in 0..<50 {
            _ = try Self.scan(&recovery, Self.segment(Self.messages("t\(topic)", seqs: 1...100, wall: Self.now + UInt64(topic) * 1000)))
        }
        let topics = recovery.finish(trusted: true, nowWall: Self.now) { "x" }
        let bytes = topics.reduce(0) { $0 + $1.messages.reduce(0) { $0 + $1.payload.count } }
        #expect(bytes <= 1000, "finish trims to the budget")
        #expect(topics.last!.messages.last!.seq == 100, "the newest survive")
        #expect(topics.allSatisfy { $0.continued }, "trimming old messages is not a gap")
    }

    @Test func foreignHeaderIsCutWholeAndLaterVersionThrows() throws {
        var recovery = Self.recovery()
        #expect(try Self.scan(&recovery, Array("something else entirely".utf8)) == HistoryRecovery.Cut(validLength: 0, reason: .foreignHeader))
        var later = RecordCodec.header()
        later[8] = 9
        #expect(throws: HistoryRecovery.UnsupportedVersion(version: 9)) { _ = try Self.scan(&recovery, later) }
    }
}
