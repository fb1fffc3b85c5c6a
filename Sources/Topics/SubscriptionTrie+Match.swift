extension SubscriptionTrie {
    /// The values whose patterns match `topic`, each once. Served from the cache when
    /// possible; otherwise walks the trie and caches the result.
    public func match(_ topic: TopicName) -> MatchResult<Value> {
        guard cache.isEnabled else { return walk(topic) }
        if let hit = cache.lookup(topic) {
            cacheHitCount += 1
            return hit
        }
        cacheMissCount += 1
        let result = walk(topic)
        cache.store(result, for: topic)
        return result
    }

    /// Splits the topic into byte ranges in a stack buffer (as NATS's fixed `[32]string`),
    /// then walks. The ranges borrow the topic's bytes, which outlive the walk.
    func walk(_ topic: TopicName) -> MatchResult<Value> {
        var collector = Collector()
        if !exact.isEmpty, let values = exact[topic] { collector.add(values) }
        // Only patterns with a wildcard are in the tree; without any, nothing to walk.
        if !root.isEmpty { walkTree(topic, into: &collector) }
        return MatchResult(values: collector.values)
    }

    private func walkTree(_ topic: TopicName, into collector: inout Collector) {
        withUTF8Bytes(topic.string) { bytes in
            withUnsafeTemporaryAllocation(of: UnsafeBufferPointer<UInt8>.self, capacity: topic.segmentCount) { buffer in
                var count = 0
                var segments = ByteSegments(bytes)
                while let segment = segments.next() {
                    precondition(count < buffer.count, "TopicName.segmentCount is wrong")
                    buffer.initializeElement(at: count, to: segment)
                    count += 1
                }
                let initialized = UnsafeBufferPointer(rebasing: buffer[..<count])
                Self.collect(from: root, initialized, at: 0, into: &collector)
            }
        }
    }

    /// Follows literal children iteratively and recurses only into `*` children; a `>` child
    /// matches whenever at least one segment remains, so it is collected without descending.
    private static func collect(
        from start: Node, _ segments: UnsafeBufferPointer<UnsafeBufferPointer<UInt8>>, at first: Int,
        into collector: inout Collector
    ) {
        var node = start
        var index = first
        while index < segments.count {
            if let full = node.fullWildcard { collector.add(full.values) }
            if let star = node.star { collect(from: star, segments, at: index + 1, into: &collector) }
            guard !node.literals.isEmpty, let next = node.literals[SegmentKey(probing: segments[index])] else {
                return
            }
            node = next
            index += 1
        }
        collector.add(node.values)
    }

    /// Gathers values from matching patterns, deduplicating only once a second one contributes:
    /// a value may sit under several (`a.b`, `a.*` and `a.>`), but within one it is unique.
    struct Collector {
        /// Below this many values a linear scan beats building a `Set`.
        private static var linearLimit: Int { 16 }

        var values: ContiguousArray<Value> = []
        private var seen: Set<Value>?
        private var contributors = 0

        mutating func add(_ found: SmallSet<Value>) {
            guard !found.isEmpty else { return }
            contributors += 1
            if contributors == 1 {
                values.append(contentsOf: found)
            } else if seen == nil && values.count + found.count <= Self.linearLimit {
                let existing = values.count
                for value in found where !values[..<existing].contains(value) {
                    values.append(value)
                }
            } else {
                var seen = self.seen.take() ?? Set(values)
                for value in found where seen.insert(value).inserted {
                    values.append(value)
                }
                self.seen = seen
            }
        }
    }
}
