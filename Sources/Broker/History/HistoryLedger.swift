import Topics

/// A loop's accounting of topic history: the bytes all its topics retain, bounded by the
/// loop's share of the global budget, and the topics holding history ordered by their last
/// publish, so the oldest history goes first when the budget is exceeded or it ages out.
/// An idle topic's history expires with it; memory stays bounded whatever the topic count.
struct HistoryLedger {
    /// The topics holding history, the last published first; the oldest loses history first.
    private var holders = TopicStateList<HeldHistory>()
    private(set) var bytes = 0
    private(set) var messages = 0
    let budget: Int
    /// The longest age any policy allows: a topic idle longer has nothing left to keep.
    let longestAge: UInt64
    /// The offset of the last message this loop sequenced (retained or not): each gets the
    /// next one, so a pattern subscription's cursor names, per loop, how far it has been
    /// sent. It is also the clock losses are timed by (`HistoryRing.droppedAt`).
    private(set) var published: UInt64 = 0
    /// The newest offset of a topic whose whole state went (evicted from the topic table,
    /// or renewed with a new epoch), and when: a pattern resume from before it cannot tell
    /// what that topic lost.
    private(set) var unknownLossOffset: UInt64 = 0
    private(set) var unknownLossAt: UInt64 = 0
    /// Cluster mode: patterns this node took NATS interest in again (or for the first time),
    /// each with this loop's offset then. Messages published elsewhere before that never came
    /// here, so a pattern resume from before it that overlaps the pattern is not complete.
    /// The newest few are kept; older ones fold into the unknown loss.
    private(set) var gaps: [(pattern: TopicPattern, offset: UInt64, at: UInt64)] = []
    static let maxGaps = 64

    init(budget: Int, longestAge: UInt64) {
        self.budget = budget
        self.longestAge = longestAge
    }

    /// Start-up with history on disk and the same loops: offsets go on from the last life's.
    mutating func continueOffsets(after offset: UInt64) { published = max(published, offset) }

    /// The offset of the next message this loop sequences.
    mutating func nextOffset() -> UInt64 {
        published += 1
        return published
    }

    /// Retains `frame` as `state`'s newest message, then enforces age and budget.
    mutating func retain(_ frame: OutboundBytes, in state: TopicState, now: UInt64) {
        state.lastOffset = frame.stamp?.offset ?? state.lastOffset
        guard state.policy.messages > 0 else {
            _ = state.history.append(frame, at: now, clock: published)
            return
        }
        let age = state.policy.ageNanos
        let clock = published
        let (freed, added) = state.withHistory { ring in
            let countBefore = ring.count
            var freed = ring.append(frame, at: now, clock: clock)
            if now > age { freed += ring.expire(before: now - age, clock: clock) }
            return (freed, ring.count - countBefore)
        }
        bytes += frame.count - freed
        messages += added
        state.lastPublished = now
        holders.moveToNewest(state)
        while bytes > budget, let victim = holders.oldest { dropOldestMessage(of: victim) }
    }

    /// Another encoding of a message `state` may still hold was made elsewhere (compressed,
    /// or as an event): its bytes count against the budget like the frame's own.
    mutating func charge(_ frame: OutboundBytes, bytes extra: Int, in state: TopicState) {
        guard holders.contains(state) else { return }
        bytes += state.history.charge(frame, bytes: extra)
        while bytes > budget, let victim = holders.oldest { dropOldestMessage(of: victim) }
    }

    /// Drops what `state` holds past its policy's age (before a replay reads it).
    mutating func trim(_ state: TopicState, now: UInt64) {
        let countBefore = state.history.count
        bytes -= expire(state, now: now)
        messages -= countBefore - state.history.count
        if state.history.isEmpty { holders.remove(state) }
    }

    /// Releases a state's whole history (it aged out).
    mutating func forget(_ state: TopicState) {
        messages -= state.history.count
        bytes -= state.history.removeAll(clock: published)
        holders.remove(state)
    }

    /// The state itself goes (evicted or renewed): its history, and what it knew of losses.
    mutating func evict(_ state: TopicState) {
        forget(state)
        noteUnknownLoss(upTo: state.lastOffset)
    }

    /// This node was not receiving `pattern`'s messages from other nodes until now.
    /// The gap takes an offset of its own, so every cursor issued before it is below it and
    /// every cursor issued after it (acks wait for the owners' clocks) is not.
    mutating func noteGap(_ pattern: TopicPattern) {
        if gaps.count == Self.maxGaps { noteUnknownLoss(upTo: gaps.removeFirst().offset) }
        published += 1
        gaps.append((pattern, published, published))
    }

    /// Something no topic records was lost just now (a cluster backplane outage).
    mutating func noteUnknownLossNow() {
        published += 1
        noteUnknownLoss(upTo: published)
    }

    /// Whether a resume of `pattern` from `offset` crosses a loss no topic records: a state
    /// evicted, or an interest gap of an overlapping pattern. `since`: only losses noted
    /// after that clock (a page after its probe).
    func crossesUnknownLoss(_ pattern: TopicPattern, from offset: UInt64, since clock: UInt64? = nil) -> Bool {
        if unknownLossOffset > offset && clock.map({ unknownLossAt > $0 }) ?? true { return true }
        return gaps.contains { gap in
            gap.offset > offset && clock.map { gap.at > $0 } ?? true && gap.pattern.overlaps(pattern)
        }
    }

    /// Messages up to `offset` may have been lost in ways no topic state records (a state
    /// evicted, or a cluster node that was not receiving a pattern's messages).
    mutating func noteUnknownLoss(upTo offset: UInt64) {
        guard offset > unknownLossOffset else { return }
        unknownLossOffset = offset
        unknownLossAt = published
    }

    /// Drops the history of topics idle for longer than any policy keeps messages.
    mutating func sweep(now: UInt64) {
        while let state = holders.oldest, now &- state.lastPublished >= longestAge { forget(state) }
    }

    private func expire(_ state: TopicState, now: UInt64) -> Int {
        let age = state.policy.ageNanos
        guard now > age else { return 0 }
        return state.history.expire(before: now - age, clock: published)
    }

    private mutating func dropOldestMessage(of state: TopicState) {
        bytes -= state.history.dropOldest(clock: published)
        messages -= 1
        if state.history.isEmpty { holders.remove(state) }
    }
}
