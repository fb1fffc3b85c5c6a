/// Interest entries whose loop's last subscriber left, kept in the interest trie at count 0
/// instead of removed, and pruned in bulk.
///
/// A connection churning through a topic (connect, subscribe, leave) otherwise removes its
/// loop's entry from the owner's interest trie when it leaves and inserts a new one when the
/// next arrives: about 3,700 instructions per cycle (issue 18) for an entry that comes back.
/// Every reader of the interest trie skips count-0 entries (delivery, publish-ack counts, the
/// cluster backplane's renewals, forgetting a topic's state). Idle entries are let go once
/// they outnumber `max(256, 2 × live)`, so they can never hold more than a bounded multiple
/// of the memory live interest does. The topic state of a literal pattern is still forgotten
/// when its last subscriber leaves (`LoopHub.forgetIfUnused`): only the cheap trie entry stays.
struct IdleInterest {
    /// Entries that went idle since the last prune, each listed once (`InterestEntry.listedIdle`);
    /// some may have come back to life since.
    private var listed: [InterestEntry] = []
    /// Entries in the trie at count 0 now.
    private(set) var count = 0

    /// Fewest idle entries worth a prune, so that a small server never prunes at all.
    static let floor = 256

    /// `entry`'s count went from positive to 0.
    mutating func wentIdle(_ entry: InterestEntry) {
        count += 1
        if !entry.listedIdle {
            entry.listedIdle = true
            listed.append(entry)
        }
    }

    /// An idle entry's count went positive again.
    mutating func revived() { count -= 1 }

    /// Whether the idle entries outnumber both the floor and twice the live ones, of the
    /// `total` entries the trie holds.
    func shouldPrune(total: Int) -> Bool { count > max(Self.floor, 2 * (total - count)) }

    /// The entries still at count 0, all unlisted; the caller removes them from the trie.
    mutating func takeIdle() -> [InterestEntry] {
        var idle: [InterestEntry] = []
        idle.reserveCapacity(count)
        for entry in listed {
            entry.listedIdle = false
            if entry.count == 0 { idle.append(entry) }
        }
        listed = []
        count = 0
        return idle
    }
}
