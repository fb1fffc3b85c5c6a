import Testing
import Topics
@testable import Broker

/// A loop's interest in a pattern whose last subscriber left stays in the owner's interest
/// trie at count 0 (issue 18: connection churn re-adds it a moment later), is skipped by its
/// readers, and is pruned in bulk. The hub is driven directly with the `interest` messages
/// its peers would send; nothing here runs a loop.
@Suite struct IdleInterestTests {
    private func hub() throws -> LoopHub {
        LoopHub(index: 0, peers: [try LoopInbox(), try LoopInbox()], config: ServerConfig())
    }

    private func update(_ pattern: String, loop: Int = 1, count: Int, token: UInt64 = 0) throws -> HubMessage {
        .interest(InterestUpdate(pattern: try TopicPattern(pattern), loop: loop, count: count, deflateWindows: 0, token: token))
    }

    /// Guards the churn saving: without it the entry is removed and a new one made each cycle.
    @Test func aWithdrawnInterestKeepsItsEntryAtCountZeroAndTheNextSubscriberRevivesIt() throws {
        let hub = try hub()
        let pattern = try TopicPattern("churn.t1")
        hub.receive(try update("churn.t1", count: 1, token: 1))  // the first subscriber: a state
        #expect(hub.topicStateCount == 1)
        let entry = try #require(hub.interest.first(for: pattern) { _ in true })
        hub.receive(try update("churn.t1", count: 0))
        #expect(hub.interest.count == 1 && entry.count == 0)
        #expect(hub.idleInterest.count == 1)
        // The state of a topic that never had a message still goes at once.
        #expect(hub.topicStateCount == 0)
        #expect(hub.interest.match(try TopicName("churn.t1")).contains { $0 === entry })
        hub.receive(try update("churn.t1", count: 2, token: 2))
        #expect(hub.interest.first(for: pattern) { _ in true } === entry)
        #expect(entry.count == 2 && hub.interest.count == 1 && hub.idleInterest.count == 0)
    }

    /// Another loop's live interest in the same topic keeps its state while one loop's is idle.
    @Test func aTopicStateStaysWhileAnotherLoopIsInterested() throws {
        let hub = try hub()
        hub.receive(try update("churn.shared", loop: 0, count: 1, token: 1))
        hub.receive(try update("churn.shared", loop: 1, count: 1, token: 2))
        hub.receive(try update("churn.shared", loop: 1, count: 0))
        #expect(hub.topicStateCount == 1)
        hub.receive(try update("churn.shared", loop: 0, count: 0))
        #expect(hub.topicStateCount == 0)
    }

    /// Idle entries go once they outnumber the floor and twice the live ones; live ones stay.
    @Test func idleEntriesArePrunedOnceTheyOutnumberTheLiveOnes() throws {
        let hub = try hub()
        hub.receive(try update("churn.live", count: 1))
        for n in 0...IdleInterest.floor {
            hub.receive(try update("churn.t\(n)", count: 1))
            hub.receive(try update("churn.t\(n)", count: 0))
        }
        // floor + 1 idle entries against 1 live: pruned when the last went idle.
        #expect(hub.idleInterest.count == 0)
        #expect(hub.interest.count == 1)
        #expect(hub.interest.first(for: try TopicPattern("churn.live")) { _ in true }?.count == 1)
        // A pruned pattern comes back as a new entry.
        hub.receive(try update("churn.t0", count: 1))
        #expect(hub.interest.count == 2 && hub.idleInterest.count == 0)
    }

    /// An entry that goes idle, comes back and goes idle again is listed once.
    @Test func anEntryIdleTwiceBeforeAPruneIsListedOnce() throws {
        var idle = IdleInterest()
        let entry = InterestEntry(loop: 1, pattern: try TopicPattern("a"), count: 0)
        idle.wentIdle(entry)
        entry.count = 1
        idle.revived()
        entry.count = 0
        idle.wentIdle(entry)
        #expect(idle.count == 1 && entry.listedIdle)
        entry.deflateWindows = 1 << 12
        #expect(entry.listedIdle && entry.deflateWindows == 1 << 12)
        let taken = idle.takeIdle()
        #expect(taken.count == 1 && taken[0] === entry && !entry.listedIdle && idle.count == 0)
        #expect(entry.deflateWindows == 1 << 12)
    }
}
