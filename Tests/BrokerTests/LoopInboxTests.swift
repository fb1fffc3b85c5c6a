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
}
