import Topics

/// The state of one topic, kept by the topic's owner loop: its epoch, the number of its last
/// message and its recent history. Lives apart from the topic's subscribers (and outlives
/// them), so a subscriber that comes back later sees the same epoch.
final class TopicState {
    let topic: TopicName
    /// Random, chosen when this state is created: positions from an earlier life of the topic
    /// (before a restart or an eviction) can never be mistaken for this one's.
    let epoch: String
    /// The last sequence number assigned; 0 before the first message.
    var seq: UInt64 = 0
    let policy: HistoryPolicy
    var history: HistoryRing
    /// When the last message was published (monotonic ns): orders the history ledger.
    var lastPublished: UInt64 = 0
    /// The owner offset of its last message (0 before the first).
    var lastOffset: UInt64 = 0
    /// Position in the topic table's list of states by last publish (pattern resumes walk
    /// it from the newest back to the cursor).
    var recency = ListLinks()
    /// Position in the topic table's least-recently-used list.
    var lru = ListLinks()
    /// Position in the history ledger's list (topics holding history, by last publish).
    var ledger = ListLinks()
    var inLedger = false
    /// The interest trie's answer for this topic, valid while the trie's generation is
    /// `interestGeneration`: a steady topic skips the trie walk on every publish.
    var interest: MatchResult<InterestEntry>?
    var interestGeneration: UInt64 = 0

    init(topic: TopicName, epoch: String, policy: HistoryPolicy) {
        self.topic = topic
        self.epoch = epoch
        self.policy = policy
        history = HistoryRing(capacity: policy.messages)
    }

    var position: TopicPosition { TopicPosition(epoch: epoch, seq: seq) }

    /// The next sequence number. Stays below 2^53 so JavaScript clients read it exactly; a
    /// topic that got there (centuries at a million messages a second) starts a new epoch.
    func next() -> UInt64? {
        guard seq < (1 << 53) - 1 else { return nil }
        seq += 1
        return seq
    }
}

/// Links of an intrusive doubly linked list. The topic table's dictionary owns every state;
/// links only order them, so they hold no references (no cycles, and no deep chain of
/// releases when a table with 100,000 topics goes away). A state is unlinked before the
/// dictionary lets it go.
struct ListLinks {
    unowned(unsafe) var newer: TopicState?
    unowned(unsafe) var older: TopicState?
}
