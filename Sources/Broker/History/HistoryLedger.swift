/// A loop's accounting of topic history: the bytes all its topics retain, bounded by the
/// loop's share of the global budget, and the topics holding history ordered by their last
/// publish, so the oldest history goes first when the budget is exceeded or it ages out.
/// An idle topic's history expires with it; memory stays bounded whatever the topic count.
struct HistoryLedger {
    private unowned(unsafe) var newest: TopicState?
    private unowned(unsafe) var oldest: TopicState?
    private(set) var bytes = 0
    private(set) var messages = 0
    let budget: Int
    /// The longest age any policy allows: a topic idle longer has nothing left to keep.
    let longestAge: UInt64

    init(budget: Int, longestAge: UInt64) {
        self.budget = budget
        self.longestAge = longestAge
    }

    /// Retains `frame` as `state`'s newest message, then enforces age and budget.
    mutating func retain(_ frame: OutboundBytes, in state: TopicState, now: UInt64) {
        guard state.policy.messages > 0 else { return }
        let countBefore = state.history.count
        let freed = state.history.append(frame, at: now) + expire(state, now: now)
        bytes += frame.count - freed
        messages += state.history.count - countBefore
        state.lastPublished = now
        moveToNewest(state)
        while bytes > budget, let victim = oldest { dropOldestMessage(of: victim) }
    }

    /// Drops what `state` holds past its policy's age (before a replay reads it).
    mutating func trim(_ state: TopicState, now: UInt64) {
        let countBefore = state.history.count
        bytes -= expire(state, now: now)
        messages -= countBefore - state.history.count
        if state.history.isEmpty { unlink(state) }
    }

    /// Releases a state's whole history (the state is evicted or renewed).
    mutating func forget(_ state: TopicState) {
        messages -= state.history.count
        bytes -= state.history.removeAll()
        unlink(state)
    }

    /// Drops the history of topics idle for longer than any policy keeps messages.
    mutating func sweep(now: UInt64) {
        while let state = oldest, now &- state.lastPublished >= longestAge { forget(state) }
    }

    private func expire(_ state: TopicState, now: UInt64) -> Int {
        let age = state.policy.ageNanos
        guard now > age else { return 0 }
        return state.history.expire(before: now - age)
    }

    private mutating func dropOldestMessage(of state: TopicState) {
        bytes -= state.history.dropOldest()
        messages -= 1
        if state.history.isEmpty { unlink(state) }
    }

    private mutating func moveToNewest(_ state: TopicState) {
        if state.inLedger {
            guard newest !== state else { return }
            unlink(state)
        }
        state.ledger.older = newest
        state.ledger.newer = nil
        newest?.ledger.newer = state
        newest = state
        if oldest == nil { oldest = state }
        state.inLedger = true
    }

    private mutating func unlink(_ state: TopicState) {
        guard state.inLedger else { return }
        if let newer = state.ledger.newer { newer.ledger.older = state.ledger.older } else { newest = state.ledger.older }
        if let older = state.ledger.older { older.ledger.newer = state.ledger.newer } else { oldest = state.ledger.newer }
        state.ledger = ListLinks()
        state.inLedger = false
    }
}
