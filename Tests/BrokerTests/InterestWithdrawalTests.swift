import Testing
import Topics
@testable import Broker

/// A pattern's last local subscriber leaving withdraws its interest entry by count, not by
/// trie removal (connections churning over a set of topics re-subscribe soon); withdrawn
/// entries are skipped by every reader and pruned once they are more than twice the live
/// ones and more than a floor.
struct InterestWithdrawalTests {
    private func update(_ hub: LoopHub, _ pattern: TopicPattern, count: Int) {
        hub.receive(.interest(InterestUpdate(pattern: pattern, loop: 0, count: count, token: 0)))
    }

    @Test func withdrawnEntryStaysInTheTrieAndIsReusedByTheNextSubscriber() throws {
        let hub = LoopHub(index: 0, peers: [try LoopInbox()], config: ServerConfig())
        let pattern = try TopicPattern("room.a")
        update(hub, pattern, count: 1)
        let generation = hub.interest.generation
        update(hub, pattern, count: 0)
        #expect(hub.withdrawnInterestCount == 1)
        #expect(hub.interest.count == 1)
        #expect(hub.interest.match(try TopicName("room.a")).allSatisfy { $0.count == 0 })
        update(hub, pattern, count: 2)
        #expect(hub.withdrawnInterestCount == 0)
        #expect(hub.interest.generation == generation, "no trie change for the round trip")
        #expect(hub.interest.match(try TopicName("room.a")).map(\.count) == [2])
    }

    @Test func withdrawnEntriesArePrunedPastTwiceTheLiveOnesAndTheFloor() throws {
        let hub = LoopHub(index: 0, peers: [try LoopInbox()], config: ServerConfig())
        let live = try (0..<10).map { try TopicPattern("live.\($0)") }
        for pattern in live { update(hub, pattern, count: 1) }
        let floor = LoopHub.withdrawnInterestFloor
        var pruned = false
        for round in 0..<(3 * floor) {
            let pattern = try TopicPattern("gone.\(round)")
            update(hub, pattern, count: 1)
            update(hub, pattern, count: 0)
            #expect(hub.withdrawnInterestCount <= floor)
            #expect(hub.interestEntryCount <= live.count + floor)
            pruned = pruned || hub.withdrawnInterestCount == 0
        }
        #expect(pruned)
        for pattern in live { #expect(hub.interest.count(for: pattern) == 1) }
    }
}
