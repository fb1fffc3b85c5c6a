/// Links of an intrusive doubly linked list of topic states. The topic table's dictionary
/// owns every state; links only order them, so they hold no references (no cycles, and no
/// deep chain of releases when a table with 100,000 topics goes away). A state is unlinked
/// before the dictionary lets it go.
///
/// Unmanaged rather than `unowned(unsafe)`: reading an `unowned(unsafe)` link into a local
/// made a strong reference, a retain and a release on a cold object per link followed (half
/// the reference counting of a publish went to its three lists).
struct ListLinks {
    var newer: Unmanaged<TopicState>?
    var older: Unmanaged<TopicState>?

    var isEmpty: Bool { newer == nil && older == nil }
}

extension Unmanaged where Instance == TopicState {
    /// Whether this is `state` (by identity, without retaining either).
    @inline(__always)
    func refers(to state: TopicState) -> Bool { toOpaque() == Unmanaged.passUnretained(state).toOpaque() }
}

/// Which of a state's list positions a `TopicStateList` uses: the list's code is written once
/// for the three orders (least recently used, last publish, history ledger).
protocol TopicStateOrder {
    /// The state's links in this order (empty when it is in no list of this order).
    static func links(of state: TopicState) -> ListLinks
    /// Changes the state's links in place.
    static func update(_ state: TopicState, _ change: (inout ListLinks) -> Void)
}

/// An intrusive doubly linked list of topic states, from the newest to the oldest, that
/// never retains or releases one: links are unmanaged and followed inside
/// `_withUnsafeGuaranteedRef`, which is sound while the table owns every linked state.
struct TopicStateList<Order: TopicStateOrder> {
    private var newestLink: Unmanaged<TopicState>?
    private var oldestLink: Unmanaged<TopicState>?

    var newest: TopicState? { newestLink?.takeUnretainedValue() }
    var oldest: TopicState? { oldestLink?.takeUnretainedValue() }

    func isNewest(_ state: TopicState) -> Bool { newestLink?.refers(to: state) ?? false }

    /// Whether `state` is in the list: linked, or its only member.
    func contains(_ state: TopicState) -> Bool { !Order.links(of: state).isEmpty || isNewest(state) }

    /// The state just older than `state` (nil for the oldest).
    func older(than state: TopicState) -> TopicState? { Order.links(of: state).older?.takeUnretainedValue() }

    /// Puts `state` at the newest end, taking it from where it was if it was in the list.
    mutating func moveToNewest(_ state: TopicState) {
        guard !isNewest(state) else { return }
        remove(state)
        let link = Unmanaged.passUnretained(state)
        let previous = newestLink
        Order.update(state) { $0 = ListLinks(newer: nil, older: previous) }
        if let previous {
            previous._withUnsafeGuaranteedRef { Order.update($0) { $0.newer = link } }
        } else {
            oldestLink = link
        }
        newestLink = link
    }

    /// Takes `state` out of the list; nothing happens if it is not in it.
    mutating func remove(_ state: TopicState) {
        let links = Order.links(of: state)
        if links.isEmpty {
            guard isNewest(state) else { return }
            (newestLink, oldestLink) = (nil, nil)
            return
        }
        if let newer = links.newer {
            newer._withUnsafeGuaranteedRef { Order.update($0) { $0.older = links.older } }
        } else {
            newestLink = links.older
        }
        if let older = links.older {
            older._withUnsafeGuaranteedRef { Order.update($0) { $0.newer = links.newer } }
        } else {
            oldestLink = links.newer
        }
        Order.update(state) { $0 = ListLinks() }
    }
}

/// The topic table's eviction order (`TopicState.lru`).
enum LeastRecentlyUsed: TopicStateOrder {
    @inline(__always)
    static func links(of state: TopicState) -> ListLinks { state.lru }
    @inline(__always)
    static func update(_ state: TopicState, _ change: (inout ListLinks) -> Void) { change(&state.lru) }
}

/// The topic table's order by last publish (`TopicState.withRecency`).
enum LastPublished: TopicStateOrder {
    @inline(__always)
    static func links(of state: TopicState) -> ListLinks { state.recency }
    @inline(__always)
    static func update(_ state: TopicState, _ change: (inout ListLinks) -> Void) { state.withRecency(change) }
}

/// The history ledger's order: topics holding history, by last publish (`TopicState.withLedger`).
enum HeldHistory: TopicStateOrder {
    @inline(__always)
    static func links(of state: TopicState) -> ListLinks { state.ledger }
    @inline(__always)
    static func update(_ state: TopicState, _ change: (inout ListLinks) -> Void) { state.withLedger(change) }
}
