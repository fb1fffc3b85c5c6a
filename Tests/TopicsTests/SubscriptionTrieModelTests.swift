import TestSupport
import Testing
@testable import Topics

/// Random inserts, removes and matches over a small alphabet, each match checked against a
/// brute-force filter of every stored (value, pattern) pair. Matches run between mutations,
/// so a cache entry left stale by any insert or remove would be returned and caught. Run with
/// the cache off, tiny (constant eviction), large (everything stays cached) and large but with
/// a small value budget (eviction by the values results hold).
@Test(arguments: [(0, 65_536), (4, 65_536), (1024, 65_536), (1024, 12)])
func trieMatchesBruteForceModel(cacheCapacity: Int, valueBudget: Int) {
    struct Pair: Hashable { let value: Int; let pattern: TopicPattern }
    var rng = SplitMix64(seed: 0xB05 &+ UInt64(cacheCapacity))
    let trie = SubscriptionTrie<Int>(cacheCapacity: cacheCapacity, cacheValueBudget: valueBudget)
    var model = Set<Pair>()
    let patterns = SmallSpace.patterns
    let topics = SmallSpace.topics

    func check(_ topic: TopicName) {
        let expected = Set(model.filter { $0.pattern.matches(topic) }.map(\.value))
        let result = trie.match(topic)
        #expect(result.count == expected.count, "duplicates or misses for \(topic)")
        #expect(Set(result) == expected, "\(topic)")
    }

    for _ in 0..<20_000 {
        switch Int.random(in: 0..<100, using: &rng) {
        case 0..<35:
            let pair = Pair(value: Int.random(in: 0..<6, using: &rng), pattern: patterns.randomElement(using: &rng)!)
            #expect(trie.insert(pair.value, for: pair.pattern) == model.insert(pair).inserted)
        case 35..<60:
            let pair = Bool.random(using: &rng) && !model.isEmpty
                ? model.randomElement(using: &rng)!
                : Pair(value: Int.random(in: 0..<6, using: &rng), pattern: patterns.randomElement(using: &rng)!)
            #expect(trie.remove(pair.value, for: pair.pattern) == (model.remove(pair) != nil))
        case 60..<64:
            // A connection leaving: most of its patterns, plus some it never had.
            let value = Int.random(in: 0..<6, using: &rng)
            let some = model.filter { $0.value == value && Int.random(in: 0..<4, using: &rng) != 0 }.map(\.pattern)
                + (0..<2).map { _ in patterns.randomElement(using: &rng)! }
            let expected = Set(some).filter { model.remove(Pair(value: value, pattern: $0)) != nil }.count
            #expect(trie.removeAll(value, for: some) == expected)
        default:
            check(topics.randomElement(using: &rng)!)
        }
        #expect(trie.count == model.count)
        #expect(trie.cachedValueCount <= valueBudget)
    }
    for topic in topics { check(topic) }

    for pair in model { #expect(trie.remove(pair.value, for: pair.pattern)) }
    #expect(trie.isEmpty)
    #expect(trie.nodeCount == 0)
    for topic in topics { #expect(trie.match(topic).isEmpty) }
    if cacheCapacity > 0 { #expect(trie.cacheHitCount > 0) }
}
