import Topics

/// The sequence state of one topic, kept by the topic's owner loop: its epoch and the number
/// of its last message. Lives apart from the topic's subscribers (and outlives them), so a
/// subscriber that comes back later sees the same epoch. Linked into the table's LRU list.
final class TopicState {
    let topic: TopicName
    /// Random, chosen when this state is created: positions from an earlier life of the topic
    /// (before a restart or an eviction) can never be mistaken for this one's.
    let epoch: String
    /// The last sequence number assigned; 0 before the first message.
    var seq: UInt64 = 0
    fileprivate var newer: TopicState?
    fileprivate unowned(unsafe) var older: TopicState?

    init(topic: TopicName, epoch: String) {
        self.topic = topic
        self.epoch = epoch
    }

    /// The next sequence number. Stays below 2^53 so JavaScript clients read it exactly; a
    /// topic that got there (centuries at a million messages a second) starts a new epoch.
    func next() -> UInt64? {
        guard seq < (1 << 53) - 1 else { return nil }
        seq += 1
        return seq
    }
}

/// A loop's share of the topic states, bounded: past `capacity` the least recently used state
/// is evicted, and a topic whose state is created again gets a new epoch.
struct TopicTable {
    private var states: [TopicName: TopicState] = [:]
    /// Most recently used end of the list; `oldest` is the eviction end.
    private var newest: TopicState?
    private var oldest: TopicState?
    let capacity: Int
    private(set) var evictions = 0

    init(capacity: Int) { self.capacity = max(1, capacity) }

    var count: Int { states.count }

    /// The topic's state, created (with a fresh epoch) if absent, and marked recently used.
    mutating func state(for topic: TopicName) -> TopicState {
        if let state = states[topic] {
            touch(state)
            return state
        }
        if states.count >= capacity, let victim = oldest {
            unlink(victim)
            states[victim.topic] = nil
            evictions += 1
        }
        let state = TopicState(topic: topic, epoch: Self.newEpoch())
        states[topic] = state
        linkNewest(state)
        return state
    }

    /// Replaces a topic's state with a new epoch (its sequence space is exhausted).
    mutating func renew(_ topic: TopicName) -> TopicState {
        if let old = states[topic] {
            unlink(old)
            states[topic] = nil
        }
        return state(for: topic)
    }

    func peek(_ topic: TopicName) -> TopicState? { states[topic] }

    static func newEpoch() -> String {
        let value = UInt64.random(in: .min ... .max)
        let hex = String(value, radix: 16)
        return String(repeating: "0", count: 16 - hex.count) + hex
    }

    private mutating func touch(_ state: TopicState) {
        guard newest !== state else { return }
        unlink(state)
        linkNewest(state)
    }

    private mutating func linkNewest(_ state: TopicState) {
        state.older = newest
        state.newer = nil
        newest?.newer = state
        newest = state
        if oldest == nil { oldest = state }
    }

    private mutating func unlink(_ state: TopicState) {
        if let newer = state.newer { newer.older = state.older } else { newest = state.older }
        if let older = state.older { older.newer = state.newer } else { oldest = state.newer }
        state.newer = nil
        state.older = nil
    }
}
