import Glibc
import Testing
import Topics
@testable import Broker

@Suite struct LoopInboxTests {
    @Test func backlogCountsQueuedPayloadsAndDrainingReturnsIt() throws {
        let inbox = try LoopInbox()
        let origin = PublishOrigin(loop: 0, connection: 1, requestID: nil, wantsOutcome: false, arrival: 0)
        let request = PublishRequest(topic: try TopicName("t"), kind: .binary, payload: [UInt8](repeating: 0, count: 1000), origin: origin)
        for _ in 0..<3 { inbox.post(.hub(.publish(request))) }
        inbox.post(.run { _ in })
        #expect(inbox.backlog == 3 * (64 + 1000) + 64)
        var drained: [LoopCommand] = []
        #expect(inbox.drain(into: &drained) == 3 * 1064 + 64)
        #expect(drained.count == 4)
        #expect(inbox.backlog == 0)
    }

    /// Drains swap the queue with the loop's spare buffer, so after a burst a burst-sized
    /// buffer waits in the inbox; a quiet loop gives it back.
    @Test func aQuietInboxGivesBackTheBufferABurstGrew() throws {
        let inbox = try LoopInbox()
        var spare: [LoopCommand] = []
        spare.reserveCapacity(10_000)  // the loop's spare after draining a burst
        for _ in 0..<3 { inbox.post(.run { _ in }) }
        inbox.drain(into: &spare)
        #expect(inbox.pendingCapacity >= 10_000)
        inbox.releaseIdleCapacity()
        #expect(inbox.pendingCapacity <= SparseCapacity.floor)
    }

    @Test func aQueueWithWaitingCommandsIsLeftAlone() throws {
        let inbox = try LoopInbox()
        for _ in 0..<1000 { inbox.post(.run { _ in }) }
        let before = inbox.pendingCapacity
        inbox.releaseIdleCapacity()
        #expect(inbox.pendingCapacity == before)
        var drained: [LoopCommand] = []
        inbox.drain(into: &drained)
        #expect(drained.count == 1000)
    }

    /// A loop's turn posts its messages to a peer as one batch: in order, one wake-up.
    @Test func aBatchArrivesInOrderWithOneWakeUp() throws {
        let inbox = try LoopInbox()
        let origin = PublishOrigin(loop: 0, connection: 1, requestID: nil, wantsOutcome: false, arrival: 0)
        let batch = try (1...3).map { size in
            LoopCommand.hub(.publish(PublishRequest(topic: try TopicName("t\(size)"), kind: .binary,
                                                    payload: [UInt8](repeating: 0, count: size), origin: origin)))
        }
        inbox.post(contentsOf: batch)
        inbox.post(contentsOf: [])
        #expect(inbox.backlog == 3 * 64 + 6)
        var wakeUps: UInt64 = 0
        #expect(read(inbox.wakeFD, &wakeUps, 8) == 8 && wakeUps == 1)
        var drained: [LoopCommand] = []
        inbox.drain(into: &drained)
        let topics = drained.compactMap { command -> String? in
            if case .hub(.publish(let request)) = command { return request.topic.string }
            return nil
        }
        #expect(topics == ["t1", "t2", "t3"])
    }
}
