import Testing
@testable import Topics

/// Per-loop tables shrink once they hold a small fraction of their peak: Swift collections
/// never do by themselves, and a server keeps its tables for its whole life.
@Suite struct SparseCapacityTests {
    @Test func aDictionaryDrainedFarBelowItsPeakIsRebuiltSmallWithItsContents() {
        var table: [UInt64: String] = [:]
        for key in UInt64(0)..<10_000 { table[key] = "c\(key)" }
        let peak = table.capacity
        for key in UInt64(0)..<10_000 where key % 1000 != 0 {
            table[key] = nil
            table.shrinkIfSparse()
        }
        #expect(table.count == 10)
        #expect(table.capacity <= SparseCapacity.floor)
        #expect(peak >= 10_000)
        for key in stride(from: UInt64(0), to: 10_000, by: 1000) { #expect(table[key] == "c\(key)") }
    }

    @Test func aTableStillAQuarterFullOrSmallIsLeftAlone() {
        var table: [Int: Int] = [:]
        for key in 0..<1000 { table[key] = key }
        var next = 0
        while table.count > table.capacity / 4 {
            table[next] = nil
            next += 1
        }
        let before = table.capacity
        table.shrinkIfSparse()
        #expect(table.capacity == before)  // exactly a quarter used: not sparse yet
        table[next] = nil
        table.shrinkIfSparse()
        #expect(table.capacity < before)

        var small: [Int: Int] = [:]
        for key in 0..<40 { small[key] = key }
        for key in 0..<39 { small[key] = nil }
        let smallBefore = small.capacity
        small.shrinkIfSparse()
        #expect(small.capacity == smallBefore)  // at or under the floor
    }

    @Test func aSetDrainedFarBelowItsPeakIsRebuiltSmall() {
        var members = Set(0..<5000)
        for member in 3..<5000 {
            members.remove(member)
            members.shrinkIfSparse()
        }
        #expect(members == [0, 1, 2])
        #expect(members.capacity <= SparseCapacity.floor)
    }

    @Test func aBatchBufferKeepsItsCapacityUnderSteadyLoadAndGivesBackABurst() {
        var batch: [Int] = []
        batch.append(contentsOf: 0..<4096)
        batch.removeAllReusingCapacity()
        #expect(batch.capacity >= 4096)  // a full batch: reused as is
        batch.append(contentsOf: 0..<10)
        batch.removeAllReusingCapacity()
        #expect(batch.capacity == 0)  // the burst has passed
    }

    /// Churn on one busy topic and on many one-subscriber topics: once the subscribers have
    /// left, the trie's sets and child tables are back near empty, not at their peak.
    @Test func subscriptionTrieGivesBackAChurnPeak() throws {
        let trie = SubscriptionTrie<Int>()
        let busy = try TopicPattern("news.busy")
        let users = try (0..<3000).map { try TopicPattern("user.u\($0)") }
        for value in 0..<5000 { trie.insert(value, for: busy) }
        for (value, pattern) in users.enumerated() { trie.insert(value, for: pattern) }
        let peak = trie.heldCapacity
        #expect(peak >= 8000)
        for value in 2..<5000 { trie.remove(value, for: busy) }
        for (value, pattern) in users.enumerated() where value >= 2 { trie.remove(value, for: pattern) }
        #expect(trie.count == 4)
        #expect(trie.heldCapacity <= 4 * SparseCapacity.floor)
        #expect(trie.contains(0, for: busy) && trie.contains(1, for: busy))
        #expect(trie.contains(1, for: users[1]))
    }
}
