/// An index from subscription patterns to the values subscribed with them, answering "who
/// wants this topic?" (NATS `server/sublist.go`, generic like `server/gsl/gsl.go`).
///
/// Patterns with a wildcard live in a tree: each node has a dictionary of literal segments plus
/// separate `star` and `fullWildcard` children, and holds the values whose pattern ends there.
/// `match` walks the topic's segments, forking only into `*` branches, so its cost grows with
/// topic depth and wildcard branches, not with the number of subscriptions. Nodes left empty
/// by `remove` are pruned, so memory goes back as subscriptions go.
///
/// A literal pattern (no wildcard) matches one topic, so it needs no tree: it is a key of
/// `exact`, found with one hash of the whole topic. With a topic per user or per room most
/// patterns are literal, and a node per segment (an object, and a slot in its parent's table)
/// cost about 150 bytes per topic per trie more than one dictionary entry.
///
/// A bounded cache keeps recent match results by topic (see `MatchCache` for how it stays
/// correct under mutation).
///
/// Owned by one event loop: no locks, and not `Sendable`. A class rather than a struct because
/// the cache makes `match` mutate, and the owner holds one shared index, never copies.
public final class SubscriptionTrie<Value: Hashable> {
    final class Node {
        var literals: [SegmentKey: Node] = [:]
        var star: Node?
        var fullWildcard: Node?
        /// Values whose pattern ends at this node: often exactly one (a topic with one
        /// subscriber, one interested loop), which costs no allocation (`SmallSet`).
        var values = SmallSet<Value>()

        var isEmpty: Bool {
            values.isEmpty && literals.isEmpty && star == nil && fullWildcard == nil
        }

        func child(_ segment: UnsafeBufferPointer<UInt8>) -> Node? {
            switch TopicSyntax.kind(of: segment) {
            case .star: star
            case .fullWildcard: fullWildcard
            case .literal: literals.isEmpty ? nil : literals[SegmentKey(probing: segment)]
            }
        }

        func childCreating(_ segment: UnsafeBufferPointer<UInt8>) -> Node {
            if let existing = child(segment) { return existing }
            let node = Node()
            switch TopicSyntax.kind(of: segment) {
            case .star: star = node
            case .fullWildcard: fullWildcard = node
            case .literal: literals[SegmentKey(owning: segment)] = node
            }
            return node
        }

        func removeChild(_ segment: UnsafeBufferPointer<UInt8>) {
            switch TopicSyntax.kind(of: segment) {
            case .star: star = nil
            case .fullWildcard: fullWildcard = nil
            case .literal:
                literals.removeValue(forKey: SegmentKey(probing: segment))
                literals.shrinkIfSparse()
            }
        }
    }

    let root = Node()
    /// Literal patterns, by the one topic each matches.
    var exact: [TopicName: SmallSet<Value>] = [:]
    var cache: MatchCache<Value>

    /// Number of (value, pattern) pairs stored.
    public private(set) var count = 0

    /// Bumped by every insert or remove that changed the index. A holder of a `MatchResult`
    /// (e.g. a per-connection cache) can compare generations to know it may be stale.
    public private(set) var generation: UInt64 = 0

    /// Matches answered from the cache. Both counters stay 0 when the cache is off.
    public internal(set) var cacheHitCount = 0
    /// Matches that walked the trie and then filled the cache.
    public internal(set) var cacheMissCount = 0

    /// - Parameters:
    ///   - cacheCapacity: topics whose results are kept; 0 turns the cache off. 1,024 is
    ///     NATS's `slCacheMax`: enough for the hot topics of a loop.
    ///   - cacheValueBudget: values all cached results may hold together (8 bytes each), so
    ///     results with many subscribers cannot multiply memory by the topic count.
    public init(cacheCapacity: Int = 1024, cacheValueBudget: Int = 65_536) {
        precondition(cacheCapacity >= 0 && cacheValueBudget >= 0, "cache bounds must not be negative")
        cache = MatchCache(capacity: cacheCapacity, valueBudget: cacheValueBudget)
    }

    public var isEmpty: Bool { count == 0 }

    public var cacheCapacity: Int { cache.capacity }

    /// Values the cached results hold together, at most the value budget.
    public var cachedValueCount: Int { cache.valueCount }

    /// Topics currently cached, at most `cacheCapacity`.
    public var cachedTopicCount: Int { cache.count }

    /// Adds `value` under `pattern`. Returns false, changing nothing, if the pair is present.
    @discardableResult
    public func insert(_ value: Value, for pattern: TopicPattern) -> Bool {
        insertCounting(value, for: pattern) != nil
    }

    /// `insert`, returning how many values `pattern` holds after it, or nil (changing
    /// nothing) when the pair was present: one walk where `insert` then `count(for:)` take
    /// two (an owner counting a pattern's subscribers as each arrives, issue 18).
    @discardableResult
    public func insertCounting(_ value: Value, for pattern: TopicPattern) -> Int? {
        let held: Int
        if let topic = pattern.literal {
            guard let after = Self.insert(value, into: &exact[topic, default: SmallSet()]) else { return nil }
            held = after
        } else {
            let node = withUTF8Bytes(pattern.string) { bytes in
                var node = root
                var segments = ByteSegments(bytes)
                while let segment = segments.next() { node = node.childCreating(segment) }
                return node
            }
            guard let after = Self.insert(value, into: &node.values) else { return nil }
            held = after
        }
        count += 1
        generation &+= 1
        cache.invalidate(matching: pattern)
        return held
    }

    private static func insert(_ value: Value, into set: inout SmallSet<Value>) -> Int? {
        set.insert(value) ? set.count : nil
    }

    /// Removes the pair and prunes nodes left empty. Returns false if the pair was absent.
    @discardableResult
    public func remove(_ value: Value, for pattern: TopicPattern) -> Bool {
        removeCounting(value, for: pattern) != nil
    }

    /// `remove`, returning how many values `pattern` holds after it, or nil when the pair
    /// was absent (see `insertCounting`).
    @discardableResult
    public func removeCounting(_ value: Value, for pattern: TopicPattern) -> Int? {
        guard let held = detach(value, for: pattern) else { return nil }
        cache.invalidate(matching: pattern)
        return held
    }

    /// Removes `value` under each of `patterns` (a connection going away) and returns how many
    /// pairs were removed: literal patterns drop their one cached topic, wildcards void the
    /// cache (once is as good as many).
    @discardableResult
    public func removeAll(_ value: Value, for patterns: some Sequence<TopicPattern>) -> Int {
        var removed = 0
        for pattern in patterns where detach(value, for: pattern) != nil {
            removed += 1
            cache.invalidate(matching: pattern)
        }
        return removed
    }

    /// Whether `value` is stored under exactly `pattern` (not merely matched by it).
    public func contains(_ value: Value, for pattern: TopicPattern) -> Bool {
        if let topic = pattern.literal { return exact[topic]?.contains(value) ?? false }
        return node(for: pattern)?.values.contains(value) ?? false
    }

    /// How many values are stored under exactly `pattern`: lets an owner see the first
    /// subscriber to a pattern arrive and the last one leave (interest propagation).
    public func count(for pattern: TopicPattern) -> Int {
        if let topic = pattern.literal { return exact[topic]?.count ?? 0 }
        return node(for: pattern)?.values.count ?? 0
    }

    /// The first value stored under exactly `pattern` that `predicate` accepts (an owner's few
    /// values per pattern are scanned, not indexed).
    public func first(for pattern: TopicPattern, where predicate: (Value) -> Bool) -> Value? {
        if let topic = pattern.literal { return exact[topic]?.first(where: predicate) }
        return node(for: pattern)?.values.first(where: predicate)
    }

    private func node(for pattern: TopicPattern) -> Node? {
        withUTF8Bytes(pattern.string) { bytes in
            var node = root
            var segments = ByteSegments(bytes)
            while let segment = segments.next() {
                guard let next = node.child(segment) else { return nil }
                node = next
            }
            return node
        }
    }

    /// Removes the pair from the tree and counts it, leaving the cache to the caller; the
    /// values left under `pattern`, or nil when the pair was absent.
    private func detach(_ value: Value, for pattern: TopicPattern) -> Int? {
        let held: Int?
        if let topic = pattern.literal {
            // One hash of the topic, not three: the set is changed through its index.
            guard let index = exact.index(forKey: topic) else { return nil }
            held = exact.values[index].remove(value) ? exact.values[index].count : nil
            if held == 0 {
                exact.remove(at: index)
                exact.shrinkIfSparse()
            }
        } else {
            held = withUTF8Bytes(pattern.string) { bytes in
                var segments = ByteSegments(bytes)
                return Self.remove(value, below: root, &segments)
            }
        }
        guard let held else { return nil }
        count -= 1
        generation &+= 1
        return held
    }

    /// The values left where the pattern ends, or nil when the pair was absent. Recursion
    /// depth is the pattern's segment count, bounded by `TopicLimits.maxDepth`.
    private static func remove(_ value: Value, below node: Node, _ segments: inout ByteSegments) -> Int? {
        guard let segment = segments.next() else {
            return node.values.remove(value) ? node.values.count : nil
        }
        guard let child = node.child(segment) else { return nil }
        let held = remove(value, below: child, &segments)
        if held != nil && child.isEmpty {
            node.removeChild(segment)
        }
        return held
    }

    /// Slots the nodes' value sets and child tables hold, used or not. For tests that a
    /// table shrinks once its peak has passed.
    var heldCapacity: Int {
        func held(_ node: Node) -> Int {
            var total = node.values.capacity + node.literals.capacity
            for child in node.literals.values { total += held(child) }
            if let star = node.star { total += held(star) }
            if let full = node.fullWildcard { total += held(full) }
            return total
        }
        return exact.values.reduce(held(root) + exact.capacity) { $0 + $1.capacity }
    }

    /// Nodes below the root (literal patterns make none); 0 once every pair is removed. For
    /// tests of pruning.
    var nodeCount: Int {
        func nodes(below node: Node) -> Int {
            var total = 0
            for child in node.literals.values { total += 1 + nodes(below: child) }
            if let star = node.star { total += 1 + nodes(below: star) }
            if let full = node.fullWildcard { total += 1 + nodes(below: full) }
            return total
        }
        return nodes(below: root)
    }
}

@available(*, unavailable, message: "A SubscriptionTrie belongs to one event loop")
extension SubscriptionTrie: Sendable {}
