import Topics

/// A loop's share of the topic states, bounded: past `capacity` the least recently used state
/// is evicted, and a topic whose state is created again gets a new epoch.
struct TopicTable {
    /// Keyed by name (`TopicTableKey.name`); a publish's bytes look their topic up directly.
    private var states: [TopicTableKey: TopicState] = [:]
    /// Every state, the most recently used first; its oldest is the one evicted. `states`
    /// owns them all.
    private var recentlyUsed = TopicStateList<LeastRecentlyUsed>()
    /// The states that had a message, by last publish (`TopicState.recency`).
    private var publishOrder = TopicStateList<LastPublished>()
    let capacity: Int
    private(set) var evictions = 0
    /// The key of this table's epochs (`epoch(for:)`), random for each life of the server.
    private let epochKey = (UInt64.random(in: .min ... .max), UInt64.random(in: .min ... .max))
    /// Moves on whenever a state that may have had messages goes (evicted, renewed) or a
    /// cluster gap makes old positions untrustworthy: epochs made after differ from before.
    private(set) var generation: UInt64 = 0
    /// Called with each state created (a new epoch) however it came (first use, eviction,
    /// renewal): `--data-dir` records the new epoch at once, before any message of it.
    var onCreate: ((TopicState) -> Void)?

    init(capacity: Int) { self.capacity = max(1, capacity) }

    var count: Int { states.count }

    /// The topic's state, created (with a fresh epoch and `policy`) if absent, and marked
    /// recently used. `evicted` is the state pushed out to make room, if any: its owner must
    /// release what it holds (its history).
    mutating func state(for topic: TopicName, policy: HistoryPolicy, epoch: String? = nil) -> (state: TopicState, evicted: TopicState?) {
        if states.count < capacity {
            // Room for one more: the name is hashed once, to find its entry or insert it there
            // (a subscribe to a new topic makes a state, and it goes when its subscriber leaves).
            let (key, generation) = (epochKey, generation)
            let (state, created) = Self.resolve(&states[.name(topic)]) {
                TopicState(topic: topic, epoch: epoch ?? Self.epoch(for: topic, key: key, generation: generation), policy: policy)
            }
            if created { onCreate?(state) }
            recentlyUsed.moveToNewest(state)
            return (state, nil)
        }
        if let state = states[.name(topic)] {
            recentlyUsed.moveToNewest(state)
            return (state, nil)
        }
        var victim: TopicState?
        if states.count >= capacity, let oldest = recentlyUsed.oldest {
            victim = oldest
            recentlyUsed.remove(oldest)
            publishOrder.remove(oldest)
            states[.name(oldest.topic)] = nil
            evictions += 1
            generation &+= 1
        }
        let state = TopicState(topic: topic, epoch: epoch ?? self.epoch(for: topic), policy: policy)
        onCreate?(state)
        states[.name(topic)] = state
        recentlyUsed.moveToNewest(state)
        return (state, victim)
    }

    /// Replaces a topic's state with a new epoch (its sequence space is exhausted); returns
    /// the new state and the old one, whose history must be released.
    mutating func renew(_ topic: TopicName, policy: HistoryPolicy) -> (state: TopicState, evicted: TopicState?) {
        let old = states[.name(topic)]
        if let old {
            recentlyUsed.remove(old)
            publishOrder.remove(old)
            states[.name(topic)] = nil
        }
        generation &+= 1
        return (state(for: topic, policy: policy).state, old)
    }

    /// Drops the state of a topic that never had a message (nobody subscribes to it any
    /// more): it holds nothing a new state in this generation would not (same epoch, seq 0).
    /// Returns whether it went.
    @discardableResult
    mutating func forgetIfNeverPublished(_ topic: TopicName) -> Bool {
        // One hash of the topic: the entry is removed at its index.
        guard let index = states.index(forKey: .name(topic)) else { return false }
        let state = states.values[index]
        // A state that never stored anything of a message (the usual one here) has no
        // history and no place in the publish order to look at.
        let published = state.holdsPublishedState
        guard state.seq == 0, !published || (state.history.isEmpty && state.lastOffset == 0) else { return false }
        recentlyUsed.remove(state)
        if published { publishOrder.remove(state) }
        states.remove(at: index)
        states.shrinkIfSparse()
        return true
    }

    /// Old positions cannot be vouched for (a cluster gap): states made from now on take new
    /// epochs, even those of topics that never had a message.
    mutating func startNewGeneration() { generation &+= 1 }

    /// The epoch a state of `topic` created now gets: a keyed hash of the name and the
    /// generation, so a topic forgotten with no message (`forgetIfNeverPublished`) and made
    /// again gets the epoch its subscribers were told, while any state that might have had
    /// messages is followed by new epochs. 15 hex digits (60 bits), the most a `String`
    /// holds inline: a 16th would cost every topic state an allocation.
    func epoch(for topic: TopicName) -> String { Self.epoch(for: topic, key: epochKey, generation: generation) }

    private static func epoch(for topic: TopicName, key: (UInt64, UInt64), generation: UInt64) -> String {
        var hasher = Hasher()
        hasher.combine(key.0)
        hasher.combine(key.1)
        hasher.combine(generation)
        hasher.combine(topic)
        return hexDigits(UInt64(UInt(bitPattern: hasher.finalize())) >> 4, count: 15)
    }

    /// The state in a `Dictionary` entry, made by `make` if there is none: one access, so one
    /// lookup that finds the entry or inserts it where it belongs.
    private static func resolve(_ entry: inout TopicState?, _ make: () -> TopicState) -> (state: TopicState, created: Bool) {
        if let existing = entry { return (existing, false) }
        let made = make()
        entry = made
        return (made, true)
    }

    /// A topic's state as history on disk left it (`--data-dir`): its epoch and last seq kept.
    mutating func restore(_ topic: TopicName, epoch: String, seq: UInt64, policy: HistoryPolicy) -> (state: TopicState, evicted: TopicState?) {
        let restored = state(for: topic, policy: policy, epoch: epoch)
        restored.state.seq = seq
        return restored
    }

    func peek(_ topic: TopicName) -> TopicState? { states[.name(topic)] }

    /// The state of the topic `topic` spells, if there is one, marked recently used as
    /// `state(for:)` marks it: a publish to a known topic makes no `TopicName` of its own.
    mutating func existingState(spelled topic: TopicBytes) -> TopicState? {
        guard let state = states[.spelled(topic.bytes)] else { return nil }
        recentlyUsed.moveToNewest(state)
        return state
    }

    /// `state` was just published to: it moves to the newest end of the publish order.
    mutating func markPublished(_ state: TopicState) { publishOrder.moveToNewest(state) }

    /// Calls `body` with every state whose last message has an offset above `offset`, the
    /// most recently published first: the topics a pattern resume from `offset` must visit.
    func forEachPublished(after offset: UInt64, _ body: (TopicState) -> Void) {
        var next = publishOrder.newest
        while let state = next, state.lastOffset > offset {
            next = publishOrder.older(than: state)
            body(state)
        }
    }

    /// Every topic held (a backplane outage renews some of them).
    var names: [TopicName] { states.keys.compactMap(\.name) }

    /// A server epoch (cursors): 16 random hex digits.
    static func newEpoch() -> String { hexDigits(UInt64.random(in: .min ... .max), count: 16) }

    /// The low `count` (at most 16) nibbles of `value`, lowercase, zero-padded. Written
    /// digit by digit: `String(_:radix:)` and padding cost about 1,100 instructions more per
    /// topic state (issue 18, connection churn).
    static func hexDigits(_ value: UInt64, count: Int) -> String {
        String(unsafeUninitializedCapacity: count) { digits in
            guard let base = digits.baseAddress else { return 0 }
            var rest = value
            var i = min(count, digits.count)
            while i > 0 {
                i &-= 1
                let nibble = UInt8(truncatingIfNeeded: rest) & 0xF
                base[i] = nibble &+ (nibble < 10 ? UInt8(ascii: "0") : UInt8(ascii: "a") &- 10)
                rest >>= 4
            }
            return min(count, digits.count)
        }
    }
}
