import Topics

/// The state of one topic, kept by the topic's owner loop: its epoch, the number of its last
/// message and its recent history. Lives apart from the topic's subscribers (and outlives
/// them), so a subscriber that comes back later sees the same epoch.
///
/// A topic that only has subscribers (no message yet) needs just its name, epoch, seq, policy
/// and place in the eviction order: 112 bytes. Everything a message brings (history, publish
/// order, the ledger's links, the cached interest) lives in `Published`, made by the first
/// write to any of it; reads before that see the empty values.
final class TopicState {
    let topic: TopicName
    /// Random, chosen when this state is created: positions from an earlier life of the topic
    /// (before a restart or an eviction) can never be mistaken for this one's.
    let epoch: String
    /// The last sequence number assigned; 0 before the first message.
    var seq: UInt64 = 0
    let policy: HistoryPolicy
    /// Position in the topic table's least-recently-used list.
    var lru = ListLinks()
    /// Owned: retained once when made, released in `deinit`. Held unmanaged so that the
    /// accessors below, a dozen per publish (history, ledger and publish-order links), read
    /// through it without a retain and a release each.
    private var published: Unmanaged<Published>?

    init(topic: TopicName, epoch: String, policy: HistoryPolicy) {
        self.topic = topic
        self.epoch = epoch
        self.policy = policy
    }

    deinit { published?.release() }

    /// Whether anything of a message was ever stored here (a topic that only has subscribers
    /// holds none).
    var holdsPublishedState: Bool { published != nil }

    /// Inline, a dozen times per publish; the making is apart (once per topic).
    @inline(__always)
    private func publishedState() -> Unmanaged<Published> {
        if let published { return published }
        return makePublishedState()
    }

    @inline(never)
    private func makePublishedState() -> Unmanaged<Published> {
        let made = Unmanaged.passRetained(Published(history: HistoryRing(capacity: policy.messages)))
        published = made
        return made
    }

    /// What reading `history` sees before the first message: empty, of capacity 0 (the ring
    /// made on first write has the policy's). Shared, so a read allocates nothing (a fresh
    /// ring of the policy's capacity made the read coroutine's frame too large for its
    /// inline buffer: a malloc and a free per read).
    private static let noHistory = HistoryRing(capacity: 0)

    var history: HistoryRing {
        _read {
            if let published { yield published.takeUnretainedValue().history } else { yield Self.noHistory }
        }
        _modify { yield &publishedState().takeUnretainedValue().history }
    }

    /// Runs `body` on the history in place (made on first use): a publish reads and changes
    /// it in one access, where each read of `history` is a coroutine whose frame glibc
    /// allocates.
    func withHistory<R>(_ body: (inout HistoryRing) -> R) -> R {
        publishedState()._withUnsafeGuaranteedRef { body(&$0.history) }
    }

    /// When the last message was published (monotonic ns): orders the history ledger.
    var lastPublished: UInt64 {
        get { published?._withUnsafeGuaranteedRef { $0.lastPublished } ?? 0 }
        set { if newValue != 0 || published != nil { publishedState()._withUnsafeGuaranteedRef { $0.lastPublished = newValue } } }
    }

    /// The owner offset of its last message (0 before the first).
    var lastOffset: UInt64 {
        get { published?._withUnsafeGuaranteedRef { $0.lastOffset } ?? 0 }
        set { if newValue != 0 || published != nil { publishedState()._withUnsafeGuaranteedRef { $0.lastOffset = newValue } } }
    }

    /// Position in the topic table's list of states by last publish (pattern resumes walk
    /// it from the newest back to the cursor); empty before the first message.
    var recency: ListLinks { published?._withUnsafeGuaranteedRef { $0.recency } ?? ListLinks() }

    /// Changes `recency` in place: one access to the published state, no copy of it back.
    func withRecency(_ change: (inout ListLinks) -> Void) {
        publishedState()._withUnsafeGuaranteedRef { change(&$0.recency) }
    }

    /// Position in the history ledger's list (topics holding history, by last publish).
    var ledger: ListLinks { published?._withUnsafeGuaranteedRef { $0.ledger } ?? ListLinks() }

    /// Changes `ledger` in place (see `withRecency`).
    func withLedger(_ change: (inout ListLinks) -> Void) {
        publishedState()._withUnsafeGuaranteedRef { change(&$0.ledger) }
    }

    /// The interest trie's answer for this topic (the loops that want it): a steady topic
    /// skips the trie walk on every publish.
    var interest: RememberedMatch<InterestEntry>? {
        get { published?._withUnsafeGuaranteedRef { $0.interest } }
        set { publishedState()._withUnsafeGuaranteedRef { $0.interest = newValue } }
    }

    /// The owner loop's own subscribers of this topic: a publish fanned out on its owner loop
    /// skips the subscription trie cache's hash of the topic (the table's lookup already
    /// hashed it once).
    var localMatch: RememberedMatch<Subscriber>? {
        get { published?._withUnsafeGuaranteedRef { $0.localMatch } }
        set { publishedState()._withUnsafeGuaranteedRef { $0.localMatch = newValue } }
    }

    var position: TopicPosition { TopicPosition(epoch: epoch, seq: seq) }

    /// The next sequence number. Stays below 2^53 so JavaScript clients read it exactly; a
    /// topic that got there (centuries at a million messages a second) starts a new epoch.
    func next() -> UInt64? {
        guard seq < (1 << 53) - 1 else { return nil }
        seq += 1
        return seq
    }

    /// What a topic's messages bring with them (see `TopicState`).
    private final class Published {
        var history: HistoryRing
        var lastPublished: UInt64 = 0
        var lastOffset: UInt64 = 0
        var recency = ListLinks()
        var ledger = ListLinks()
        var interest: RememberedMatch<InterestEntry>?
        var localMatch: RememberedMatch<Subscriber>?

        init(history: HistoryRing) { self.history = history }
    }
}

/// A trie's match for one topic and the trie's generation it was made at: any insert or
/// remove in the trie changes the generation, and a stale result is never read, only
/// replaced (`SubscriptionTrie.generation`).
struct RememberedMatch<Value> {
    let result: MatchResult<Value>
    let generation: UInt64

    /// The result, if the trie is still at the generation it was made at.
    func ifCurrent(_ generation: UInt64) -> MatchResult<Value>? { self.generation == generation ? result : nil }
}
