import Testing
@testable import Topics

func p(_ string: String) throws -> TopicPattern { try TopicPattern(string) }
func t(_ string: String) throws -> TopicName { try TopicName(string) }

@Test(arguments: [0, 1024])
func valueWithOverlappingPatternsIsMatchedOnce(cacheCapacity: Int) throws {
    let trie = SubscriptionTrie<String>(cacheCapacity: cacheCapacity)
    trie.insert("alice", for: try p("a.*"))
    trie.insert("alice", for: try p("a.>"))
    trie.insert("alice", for: try p("a.b"))
    trie.insert("alice", for: try p(">"))
    trie.insert("bob", for: try p("*.b"))
    trie.insert("bob", for: try p("a.b"))
    let result = trie.match(try t("a.b"))
    #expect(result.count == 2)
    #expect(Set(result) == ["alice", "bob"])
    #expect(trie.count == 6)
}

@Test func insertAndRemoveAreIdempotent() throws {
    let trie = SubscriptionTrie<Int>()
    #expect(trie.insert(1, for: try p("a.*")))
    #expect(!trie.insert(1, for: try p("a.*")))
    #expect(trie.count == 1)
    #expect(trie.insert(2, for: try p("a.*")))
    #expect(trie.count(for: try p("a.*")) == 2)
    #expect(trie.contains(1, for: try p("a.*")))
    #expect(!trie.contains(1, for: try p("a.b")))  // matched by, but not stored under

    #expect(!trie.remove(1, for: try p("a.>")))
    #expect(!trie.remove(3, for: try p("a.*")))
    #expect(trie.remove(1, for: try p("a.*")))
    #expect(!trie.remove(1, for: try p("a.*")))
    #expect(trie.count == 1)
    #expect(trie.match(try t("a.x")).values == [2])
}

@Test func generationMovesOnlyOnChange() throws {
    let trie = SubscriptionTrie<Int>()
    let start = trie.generation
    trie.insert(1, for: try p("a"))
    trie.insert(1, for: try p("a"))
    #expect(trie.generation == start + 1)
    trie.remove(2, for: try p("a"))
    #expect(trie.generation == start + 1)
    trie.remove(1, for: try p("a"))
    #expect(trie.generation == start + 2)
}

/// Guards memory return: a trie that had subscriptions and lost them all holds no nodes.
@Test(arguments: [0, 1024])
func removingEverythingPrunesEveryNode(cacheCapacity: Int) throws {
    let trie = SubscriptionTrie<Int>(cacheCapacity: cacheCapacity)
    let patterns = try ["a", "a.b", "a.b.c", "a.*", "a.>", "*.b", ">", "*", "x.*.z.>", "météo.*"].map(p)
    for (value, pattern) in patterns.enumerated() { trie.insert(value, for: pattern) }
    #expect(!trie.match(try t("a.b")).isEmpty)
    for (value, pattern) in patterns.enumerated() { #expect(trie.remove(value, for: pattern)) }
    #expect(trie.isEmpty)
    #expect(trie.nodeCount == 0)
    #expect(trie.match(try t("a.b")).isEmpty)
    #expect(trie.match(try t("x.y.z.w")).isEmpty)
}

@Test func removingALeafKeepsItsStillUsedAncestors() throws {
    let trie = SubscriptionTrie<Int>()
    trie.insert(1, for: try p("a.*"))
    trie.insert(2, for: try p("a.*.c.>"))
    #expect(trie.nodeCount == 4)
    trie.remove(2, for: try p("a.*.c.>"))
    #expect(trie.nodeCount == 2)
    #expect(trie.match(try t("a.b")).values == [1])
}

/// A literal pattern is one dictionary entry, not a node per segment: with a topic per user
/// that was about 150 bytes per topic per trie. Matching still combines it with wildcards.
@Test(arguments: [0, 1024])
func literalPatternsMakeNoNodes(cacheCapacity: Int) throws {
    let trie = SubscriptionTrie<Int>(cacheCapacity: cacheCapacity)
    for n in 0..<100 { trie.insert(n, for: try p("user.u\(n).inbox")) }
    #expect(trie.nodeCount == 0)
    let seven = try p("user.u7.inbox")
    #expect(trie.count(for: seven) == 1)
    #expect(trie.contains(7, for: seven) && !trie.contains(8, for: seven))
    #expect(trie.first(for: seven) { _ in true } == 7)
    trie.insert(100, for: try p("user.*.inbox"))
    trie.insert(7, for: try p("user.>"))
    #expect(Set(trie.match(try t("user.u7.inbox")).values) == [7, 100])
    #expect(trie.match(try t("user.u7.inbox")).count == 2, "7 once, though two of its patterns match")
    for n in 0..<100 { #expect(trie.remove(n, for: try p("user.u\(n).inbox"))) }
    #expect(!trie.remove(1, for: try p("user.u1.inbox")))
    #expect(trie.match(try t("user.u7.inbox")).values.sorted() == [7, 100])
    #expect(trie.count == 2)
}

/// Most sets hold one element: it lives inline, and a `Set` exists only from the second.
@Test func aSmallSetAllocatesOnlyForASecondElement() {
    var set = SmallSet<Int>()
    #expect(set.insert(1) && !set.insert(1))
    #expect(set.count == 1 && set.capacity == 0)
    #expect(set.insert(2) && set.capacity > 0)
    #expect(Set(set) == [1, 2] && set.contains(2))
    #expect(set.remove(1) && !set.remove(1))
    #expect(Array(set) == [2] && set.capacity == 0, "the last one out gives the storage back")
    #expect(set.remove(2) && set.isEmpty && Array(set).isEmpty)
}

@Test func removeAllRemovesEachPairOfTheValue() throws {
    let trie = SubscriptionTrie<Int>()
    let patterns = try ["a", "a.*", "a.>", "b.c"].map(p)
    for pattern in patterns { trie.insert(1, for: pattern) }
    trie.insert(2, for: try p("a.*"))
    #expect(trie.match(try t("a.x")).count == 2)
    #expect(trie.removeAll(1, for: patterns + [try p("zzz")]) == 4)
    #expect(trie.count == 1)
    #expect(trie.match(try t("a.x")).values == [2])
    #expect(trie.match(try t("a")).isEmpty)
}

@Test func repeatedMatchIsServedFromCache() throws {
    let trie = SubscriptionTrie<Int>()
    trie.insert(1, for: try p("a.*"))
    _ = trie.match(try t("a.b"))
    _ = trie.match(try t("a.b"))
    #expect(trie.cacheMissCount == 1)
    #expect(trie.cacheHitCount == 1)
    #expect(trie.cachedTopicCount == 1)
}

/// A literal change drops only its own cached topic; a wildcard change voids every entry at
/// once (no scan of the cache per wildcard subscribe).
@Test func literalChangesDropTheirTopicAndWildcardChangesVoidTheCache() throws {
    let trie = SubscriptionTrie<Int>()
    trie.insert(1, for: try p("a.*"))
    _ = trie.match(try t("a.b"))
    _ = trie.match(try t("c.d"))
    _ = trie.match(try t("c.x"))

    trie.insert(2, for: try p("c.x"))  // literal: only c.x goes
    #expect(trie.match(try t("a.b")).values == [1])
    #expect(trie.match(try t("c.d")).isEmpty)
    #expect(trie.cacheHitCount == 2)
    #expect(trie.match(try t("c.x")).values == [2])
    #expect(trie.cacheMissCount == 4)

    trie.insert(3, for: try p("*.b"))  // wildcard: every entry is stale
    #expect(Set(trie.match(try t("a.b"))) == [1, 3])
    #expect(trie.match(try t("c.d")).isEmpty)
    #expect(trie.cacheHitCount == 2)
    #expect(trie.cacheMissCount == 6)
    #expect(trie.match(try t("c.d")).isEmpty)  // cached again in the new generation
    #expect(trie.cacheHitCount == 3)

    trie.remove(1, for: try p("a.*"))
    #expect(trie.match(try t("a.b")).values == [3])
    #expect(trie.cacheMissCount == 7)
}

@Test func cacheNeverHoldsMoreThanItsCapacity() throws {
    let trie = SubscriptionTrie<Int>(cacheCapacity: 4)
    trie.insert(1, for: try p(">"))
    for i in 0..<10 { _ = trie.match(try t("topic.\(i)")) }
    #expect(trie.cachedTopicCount == 4)
    #expect(trie.cacheMissCount == 10)
}

/// Results with many values count against the value budget: a wildcard every session holds
/// cannot multiply memory by the number of topics published.
@Test func cachedResultsStayWithinTheValueBudget() throws {
    let trie = SubscriptionTrie<Int>(cacheCapacity: 100, cacheValueBudget: 50)
    for session in 0..<20 { trie.insert(session, for: try p("room.*")) }
    for room in 0..<10 { #expect(trie.match(try t("room.\(room)")).count == 20) }
    #expect(trie.cachedValueCount <= 50)
    #expect(trie.cachedTopicCount == 2)
    trie.insert(99, for: try p("solo"))
    _ = trie.match(try t("solo"))
    #expect(trie.cachedValueCount <= 50)
    let big = SubscriptionTrie<Int>(cacheCapacity: 100, cacheValueBudget: 10)
    for session in 0..<20 { big.insert(session, for: try p("room.*")) }
    _ = big.match(try t("room.1"))
    #expect(big.cachedTopicCount == 0, "a result larger than the whole budget is not cached")
    #expect(big.match(try t("room.1")).count == 20)
}

/// CLOCK eviction gives a topic that was hit a second chance over one that never was.
@Test func recentlyHitTopicSurvivesEviction() throws {
    let trie = SubscriptionTrie<Int>(cacheCapacity: 2)
    trie.insert(1, for: try p(">"))
    _ = trie.match(try t("hot"))
    _ = trie.match(try t("hot"))
    _ = trie.match(try t("cold.1"))
    _ = trie.match(try t("cold.2"))  // evicts cold.1, not hot
    let hits = trie.cacheHitCount
    _ = trie.match(try t("hot"))
    #expect(trie.cacheHitCount == hits + 1)
    _ = trie.match(try t("cold.1"))
    #expect(trie.cacheHitCount == hits + 1)
}

@Test func zeroCapacityTurnsCacheOff() throws {
    let trie = SubscriptionTrie<Int>(cacheCapacity: 0)
    trie.insert(1, for: try p("a"))
    for _ in 0..<3 { #expect(trie.match(try t("a")).values == [1]) }
    #expect(trie.cacheHitCount == 0)
    #expect(trie.cacheMissCount == 0)
    #expect(trie.cachedTopicCount == 0)
}

/// A result taken before a change still shows the state it was taken in: results are shared
/// and never edited in place.
@Test func heldResultIsNotChangedByLaterMutation() throws {
    let trie = SubscriptionTrie<Int>()
    trie.insert(1, for: try p("a"))
    let before = trie.match(try t("a"))
    trie.insert(2, for: try p("a"))
    trie.remove(1, for: try p("a"))
    #expect(before.values == [1])
    #expect(trie.match(try t("a")).values == [2])
}
