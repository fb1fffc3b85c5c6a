/// A bounded map from topic to its shared `MatchResult`, kept correct by invalidation.
///
/// Invalidation: an insert or remove of pattern P can change the result of exactly the topics
/// P matches. A literal P drops its one topic (a dictionary removal): a loop's index changes on
/// every subscribe and unsubscribe, mostly to literal topics, and targeted drops keep the hot
/// entries warm while clients come and go. A wildcard P voids every entry at once by moving to
/// a new generation (O(1)); entries of older generations read as misses and are replaced or
/// evicted. Scanning for the entries P matches would cost up to `capacity` byte-wise matches
/// per wildcard subscribe or unsubscribe, which one client could repeat at its subscribe rate.
/// Results are never edited, only dropped, so a result a caller still holds stays valid for
/// the moment it was taken (`SubscriptionTrie.generation` says when it may be stale).
///
/// Bounded twice: by topics (`capacity`) and by the values all cached results hold together
/// (`valueBudget`), because one result lists every matching subscriber: 2,000 sessions on
/// `room.*` across 16,000 rooms would otherwise be 32 million references.
///
/// Eviction: CLOCK (second chance). Entries live in one array; a hit sets the entry's
/// `referenced` bit; when full, the hand clears set bits until it finds an unreferenced entry
/// and replaces it. LRU-like at O(1) amortised, deterministic, and a topic published once is
/// evicted before a topic published often.
struct MatchCache<Value> {
    struct Entry {
        var topic: TopicName
        var result: MatchResult<Value>
        var referenced: Bool
        /// The `wildcardGeneration` the result was computed in; older ones are stale.
        var generation: UInt64
    }

    let capacity: Int
    let valueBudget: Int
    /// Values held by the cached results together.
    private(set) var valueCount = 0
    private var entries: ContiguousArray<Entry> = []
    private var slotOf: [TopicName: Int] = [:]
    private var hand = 0
    /// Moved on by every wildcard change: voids every entry at once.
    private var wildcardGeneration: UInt64 = 0

    init(capacity: Int, valueBudget: Int) {
        self.capacity = capacity
        self.valueBudget = valueBudget
    }

    var isEnabled: Bool { capacity > 0 }
    var count: Int { entries.count }

    mutating func lookup(_ topic: TopicName) -> MatchResult<Value>? {
        guard let slot = slotOf[topic], entries[slot].generation == wildcardGeneration else { return nil }
        entries[slot].referenced = true
        return entries[slot].result
    }

    mutating func store(_ result: MatchResult<Value>, for topic: TopicName) {
        guard isEnabled, result.count <= valueBudget else { return }
        let entry = Entry(topic: topic, result: result, referenced: false, generation: wildcardGeneration)
        if let slot = slotOf[topic] {
            valueCount += result.count - entries[slot].result.count
            entries[slot] = entry
        } else if entries.count < capacity {
            slotOf[topic] = entries.count
            entries.append(entry)
            valueCount += result.count
        } else {
            let victim = clockVictim()
            slotOf[entries[victim].topic] = nil
            valueCount += result.count - entries[victim].result.count
            entries[victim] = entry
            slotOf[topic] = victim
            hand = (victim + 1) % entries.count
        }
        // Results with many values push out others (the new one too, if the clock finds it).
        while valueCount > valueBudget && !entries.isEmpty { removeEntry(at: clockVictim()) }
    }

    /// The entry CLOCK gives up next: the first unreferenced one from the hand, clearing the
    /// bits it passes.
    private mutating func clockVictim() -> Int {
        if hand >= entries.count { hand = 0 }
        while entries[hand].referenced {
            entries[hand].referenced = false
            hand = (hand + 1) % entries.count
        }
        return hand
    }

    /// Drops every entry whose result `pattern` could change: its own topic for a literal,
    /// every entry for a wildcard.
    mutating func invalidate(matching pattern: TopicPattern) {
        guard !entries.isEmpty else { return }
        if let topic = pattern.literal {
            if let slot = slotOf[topic] { removeEntry(at: slot) }
        } else {
            wildcardGeneration &+= 1
        }
    }

    mutating func removeAll() {
        entries.removeAll(keepingCapacity: true)
        slotOf.removeAll(keepingCapacity: true)
        hand = 0
        valueCount = 0
    }

    private mutating func removeEntry(at slot: Int) {
        valueCount -= entries[slot].result.count
        slotOf[entries[slot].topic] = nil
        let last = entries.count - 1
        if slot != last {
            entries[slot] = entries[last]
            slotOf[entries[slot].topic] = slot
        }
        entries.removeLast()
        if hand >= entries.count { hand = 0 }
    }
}
