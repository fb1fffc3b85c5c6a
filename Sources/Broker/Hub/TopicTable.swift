import Topics

/// A loop's share of the topic states, bounded: past `capacity` the least recently used state
/// is evicted, and a topic whose state is created again gets a new epoch.
struct TopicTable {
    private var states: [TopicName: TopicState] = [:]
    /// Most recently used end of the list; `oldest` is the eviction end. Unowned: `states`
    /// owns every state.
    private unowned(unsafe) var newest: TopicState?
    private unowned(unsafe) var oldest: TopicState?
    /// The newest end of the states by last publish (`TopicState.recency`).
    private unowned(unsafe) var lastPublished: TopicState?
    let capacity: Int
    private(set) var evictions = 0
    /// Called with each state created (a new epoch) however it came (first use, eviction,
    /// renewal): `--data-dir` records the new epoch at once, before any message of it.
    var onCreate: ((TopicState) -> Void)?

    init(capacity: Int) { self.capacity = max(1, capacity) }

    var count: Int { states.count }

    /// The topic's state, created (with a fresh epoch and `policy`) if absent, and marked
    /// recently used. `evicted` is the state pushed out to make room, if any: its owner must
    /// release what it holds (its history).
    mutating func state(for topic: TopicName, policy: HistoryPolicy, epoch: String? = nil) -> (state: TopicState, evicted: TopicState?) {
        if let state = states[topic] {
            touch(state)
            return (state, nil)
        }
        var victim: TopicState?
        if states.count >= capacity, let oldest {
            victim = oldest
            unlink(oldest)
            unlinkPublished(oldest)
            states[oldest.topic] = nil
            evictions += 1
        }
        let state = TopicState(topic: topic, epoch: epoch ?? Self.newEpoch(), policy: policy)
        onCreate?(state)
        states[topic] = state
        linkNewest(state)
        return (state, victim)
    }

    /// Replaces a topic's state with a new epoch (its sequence space is exhausted); returns
    /// the new state and the old one, whose history must be released.
    mutating func renew(_ topic: TopicName, policy: HistoryPolicy) -> (state: TopicState, evicted: TopicState?) {
        let old = states[topic]
        if let old {
            unlink(old)
            unlinkPublished(old)
            states[topic] = nil
        }
        return (state(for: topic, policy: policy).state, old)
    }

    /// A topic's state as history on disk left it (`--data-dir`): its epoch and last seq kept.
    mutating func restore(_ topic: TopicName, epoch: String, seq: UInt64, policy: HistoryPolicy) -> (state: TopicState, evicted: TopicState?) {
        let restored = state(for: topic, policy: policy, epoch: epoch)
        restored.state.seq = seq
        return restored
    }

    func peek(_ topic: TopicName) -> TopicState? { states[topic] }

    /// `state` was just published to: it moves to the newest end of the publish order.
    mutating func markPublished(_ state: TopicState) {
        guard lastPublished !== state else { return }
        unlinkPublished(state)
        state.recency.older = lastPublished
        state.recency.newer = nil
        lastPublished?.recency.newer = state
        lastPublished = state
    }

    /// Calls `body` with every state whose last message has an offset above `offset`, the
    /// most recently published first: the topics a pattern resume from `offset` must visit.
    func forEachPublished(after offset: UInt64, _ body: (TopicState) -> Void) {
        var next = lastPublished
        while let state = next, state.lastOffset > offset {
            next = state.recency.older
            body(state)
        }
    }

    /// Every topic held (a backplane outage renews some of them).
    var names: [TopicName] { Array(states.keys) }

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
        state.lru.older = newest
        state.lru.newer = nil
        newest?.lru.newer = state
        newest = state
        if oldest == nil { oldest = state }
    }

    private mutating func unlinkPublished(_ state: TopicState) {
        if let newer = state.recency.newer { newer.recency.older = state.recency.older } else if lastPublished === state {
            lastPublished = state.recency.older
        }
        state.recency.older?.recency.newer = state.recency.newer
        state.recency = ListLinks()
    }

    private mutating func unlink(_ state: TopicState) {
        if let newer = state.lru.newer { newer.lru.older = state.lru.older } else { newest = state.lru.older }
        if let older = state.lru.older { older.lru.newer = state.lru.newer } else { oldest = state.lru.newer }
        state.lru = ListLinks()
    }
}
