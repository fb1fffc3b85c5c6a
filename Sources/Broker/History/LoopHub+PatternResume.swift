import BusProtocol
import Topics

/// Cursors and pattern resumes (Protocol.md "Resuming a pattern").
///
/// Every message a loop sequences gets the next offset of that loop (`HistoryLedger`), and
/// each loop remembers, per owner, the offset of the last message it has heard from it
/// (`heard`): since each owner → loop path is FIFO, every message of that owner up to that
/// offset which this loop had interest in has been fanned out here. A subscription's cursor
/// is the server's epoch and those offsets.
///
/// A resume from a cursor subscribes at once (interest first, so the owners send live
/// messages from then on), but skips live messages of an owner until that owner's replay is
/// over. It probes every owner for what history no longer holds, sends the ack, then replays
/// the owners one after the other: each page holds the owner's retained messages of
/// matching topics above the last offset sent, in offset order, cut when asked (so messages
/// published meanwhile come in a later page, never live), and the page that reaches the
/// owner's newest message ends its replay. Live messages of that owner then flow: all of
/// them are above the page's clock, since they follow it on the same path.
extension LoopHub {
    /// The cursor of a subscription now, as text.
    func cursorText(for subscription: CursorSubscription) -> String {
        Cursor(epoch: serverEpoch, offsets: subscription.offsets(heard: heard)).text
    }

    /// The session's cursor subscription for `pattern`, made if absent.
    func cursorSubscription(_ session: Subscriber, for pattern: TopicPattern) -> CursorSubscription {
        if let known = session.cursorSubscription(for: pattern) { return known }
        let subscription = CursorSubscription(pattern: pattern)
        session.cursors = (session.cursors ?? []) + [subscription]
        return subscription
    }

    /// A new subscription with checkpoints: acked with its cursor once every owner has told
    /// its clock.
    func followCursor(_ session: Subscriber, pattern: TopicPattern, requestID: [UInt8]?) {
        resumePattern(session, pattern: pattern, start: .now, cursor: nil, positions: [:], requestID: requestID)
    }

    /// Resumes `pattern` for `session`: from `cursor` (positions: what the client holds past
    /// it) or the newest `last` messages of each matching topic.
    func resumePattern(_ session: Subscriber, pattern: TopicPattern, cursor: Cursor?, last: Int?,
                       positions: [TopicName: TopicPosition], requestID: [UInt8]?) {
        resumePattern(session, pattern: pattern, start: last.map { .last($0) } ?? .cursor(offsets: []), cursor: cursor,
                      positions: positions, requestID: requestID)
    }

    private func resumePattern(_ session: Subscriber, pattern: TopicPattern, start: PatternStart, cursor: Cursor?,
                               positions: [TopicName: TopicPosition], requestID: [UInt8]?) {
        addSubscription(session, pattern)
        let subscription = cursorSubscription(session, for: pattern)
        if let old = subscription.replay { forget(old) }
        let ours = cursor.map { $0.epoch == serverEpoch && $0.offsets.count == loopCount } ?? true
        let from = ours ? (cursor?.offsets ?? Array(repeating: 0, count: loopCount)) : Array(repeating: 0, count: loopCount)
        var byOwner = Array(repeating: [TopicName: TopicPosition](), count: loopCount)
        for (topic, position) in positions { byOwner[owner(of: topic)][topic] = position }
        nextToken += 1
        let replay = PatternReplay(token: nextToken, session: session, subscription: subscription, requestID: requestID,
                                   start: start, from: from, positions: byOwner, ours: ours)
        subscription.replay = replay
        subscription.acked = false
        patternReplays[replay.token] = replay
        for owner in 0..<loopCount { sendOnceActive(pattern, .patternReplay(request(replay, owner: owner, probe: true)), to: owner) }
    }

    private func request(_ replay: PatternReplay, owner: Int, probe: Bool) -> PatternReplayRequest {
        var last: Int?
        if case .last(let count) = replay.start { last = count }
        return PatternReplayRequest(pattern: replay.subscription.pattern, from: replay.from[owner], last: last,
                                    positions: replay.positions[owner], probe: probe, clockOnly: !replay.replays,
                                    after: probe ? replay.from[owner] : max(replay.sent, replay.from[owner]),
                                    probeClock: replay.probeClocks[owner], limit: replayPageSize, maxBytes: replayPageBytes,
                                    replyLoop: index, token: replay.token)
    }

    /// Drops a replay in progress (its session left, unsubscribed or resumed again).
    func forget(_ replay: PatternReplay) {
        patternReplays[replay.token] = nil
        patternReplays.shrinkIfSparse()
        if replay.subscription.replay === replay { replay.subscription.replay = nil }
        let session = replay.session
        session.pendingReplays.removeAll { $0 == replay.token }
        // Its page may be out: the turn passes on once the queue is written.
        if session.pageOwner == replay.token { session.connection.notifyWhenDrained() }
    }

    /// A session's queue drained while a pattern replay waited for it: the next page.
    func continuePatternReplay(_ replay: PatternReplay) {
        guard replay.owner >= 0 && replay.owner < loopCount else { return }
        send(.patternReplay(request(replay, owner: replay.owner, probe: false)), to: replay.owner)
    }

    /// The subscriber's loop: a probe's answer or a page.
    func receivePatternPage(_ page: PatternReplayPage) {
        heard[page.owner] = max(heard[page.owner], page.clock)
        guard let replay = patternReplays[page.token] else { return }
        let session = replay.session
        guard session.connection.takesDeliveries else { return forget(replay) }
        if replay.owner < 0 {
            replay.probesLeft -= 1
            replay.probeClocks[page.owner] = page.clock
            if !page.recovered { replay.recovered = false }
            replay.lostCount += page.lostCount
            replay.lost += page.lost.prefix(PatternReplayPage.maxReported - replay.lost.count)
            guard replay.probesLeft == 0 else { return }
            replay.subscription.acked = true
            guard replay.replays else {
                forget(replay)
                return session.acknowledgeCursor(requestID: replay.requestID, pattern: replay.subscription.pattern,
                                                 cursor: cursorText(for: replay.subscription), recovered: nil, lost: [])
            }
            session.acknowledgeCursor(requestID: replay.requestID, pattern: replay.subscription.pattern,
                                      cursor: Cursor(epoch: serverEpoch, offsets: replay.from).text,
                                      recovered: replay.recovered, lost: replay.lost)
            replay.owner = 0
            replay.sent = replay.from[0]
            return askForPage(replay.token, for: session)
        }
        guard page.owner == replay.owner else { return }
        guard page.recovered else {
            forget(replay)
            session.connection.dropSlowConsumer(overflowing: nil, cause: "replay fell behind history")
            return
        }
        for frame in page.frames {
            // Sent first: a stream's event id, made in `deliver`, counts this frame in.
            replay.sent = frame.stamp?.offset ?? replay.sent
            session.deliver(frame)
            guard session.connection.takesDeliveries else { return forget(replay) }
        }
        if !page.frames.isEmpty { noteDelivery(to: session, pattern: replay.subscription) }
        if page.done {
            replay.owner += 1
            if replay.owner == loopCount {
                // Every owner replayed: live from here on, the cursor from `heard`.
                noteDelivery(to: session, pattern: replay.subscription)
                forget(replay)
                return pageDelivered(to: session, token: replay.token, wantsMore: false)
            }
            replay.sent = replay.from[replay.owner]
        }
        pageDelivered(to: session, token: replay.token, wantsMore: true)
    }

    /// The owner's side: a probe (what is lost) or a page (the retained messages above the
    /// last one sent, in offset order).
    func servePatternReplay(_ request: PatternReplayRequest) {
        let clock = ledger.published
        if request.clockOnly {
            return send(.patternPage(PatternReplayPage(token: request.token, owner: index, frames: [], clock: clock,
                                                       recovered: true, lost: [], lostCount: 0, done: true)),
                        to: request.replyLoop)
        }
        var recovered = true
        var lost: [LostTopic] = []
        var lostCount = 0
        var sources: [ReplaySource] = []
        // A probe from beyond this loop's clock names messages this server life never sent.
        if request.probe && request.from > clock { recovered = false }
        topics.forEachPublished(after: request.probe ? request.from : request.after) { state in
            guard request.pattern.matches(state.topic) else { return }
            ledger.trim(state, now: loop.now)
            let first = firstWanted(state, request)
            if request.probe {
                guard let earliest = loss(of: state, request, first: first) else { return }
                recovered = false
                lostCount += 1
                if lost.count < PatternReplayPage.maxReported { lost.append(LostTopic(topic: state.topic, earliest: earliest)) }
            } else {
                // Lost since the probe and not yet sent: the subscriber fell behind history.
                if state.policy.messages > 0 && state.history.droppedAt > request.probeClock
                    && state.history.droppedOffset > request.after { recovered = false }
                if let start = state.history.firstIndex(offsetAbove: request.after, seqAtLeast: first) {
                    sources.append(ReplaySource(state: state, next: start))
                }
            }
        }
        if request.last == nil && ledger.crossesUnknownLoss(request.pattern, from: request.probe ? request.from : request.after,
                                                            since: request.probe ? nil : request.probeClock) { recovered = false }
        let (frames, done) = request.probe ? ([], false) : mergeByOffset(&sources, limit: request.limit, maxBytes: request.maxBytes)
        send(.patternPage(PatternReplayPage(token: request.token, owner: index, frames: frames, clock: clock,
                                            recovered: recovered, lost: lost, lostCount: lostCount, done: done)),
             to: request.replyLoop)
    }

    /// The first seq of `state` the resume wants: after the client's own position of it, or
    /// the newest `last`, or (1) everything above the cursor's offset.
    private func firstWanted(_ state: TopicState, _ request: PatternReplayRequest) -> UInt64 {
        if let held = request.positions[state.topic], held.epoch == state.epoch { return held.seq &+ 1 }
        if let last = request.last {
            return state.seq >= UInt64(last) ? state.seq - UInt64(last) + 1 : 1
        }
        return 1
    }

    /// Whether history no longer holds every message of `state` the resume wants: nil when
    /// it does, else the oldest position it still holds (`.some(nil)`: nothing).
    private func loss(of state: TopicState, _ request: PatternReplayRequest, first: UInt64) -> TopicPosition?? {
        let oldest = state.history.firstSeq
        let earliest: TopicPosition?? = .some(oldest.map { TopicPosition(epoch: state.epoch, seq: $0) })
        if let held = request.positions[state.topic] {
            if held.epoch != state.epoch { return earliest }
            if held.seq >= state.seq { return nil }
            return oldest.map { $0 <= first } == true ? nil : earliest
        }
        if request.last != nil {
            if first > state.seq { return nil }
            return oldest.map { $0 <= first } == true ? nil : earliest
        }
        // Everything above the cursor: lost if any such message left (or never entered) history.
        return state.history.droppedOffset > request.from ? earliest : nil
    }

    /// Up to `limit` frames (and `maxBytes`, at least one) from `sources`, lowest offset
    /// first; `done` when no source has more.
    private func mergeByOffset(_ sources: inout [ReplaySource], limit: Int, maxBytes: Int) -> ([OutboundBytes], Bool) {
        var heap = ReplayHeap(sources)
        var page: [OutboundBytes] = []
        var bytes = 0
        while page.count < limit, let frame = heap.peek() {
            if !page.isEmpty && bytes + frame.count > maxBytes { break }
            bytes += frame.count
            page.append(frame)
            heap.advance()
        }
        return (page, heap.isEmpty)
    }

    // MARK: checkpoints

    /// A cursor subscription of `session` got messages: its checkpoint goes at the turn's end.
    func noteDelivery(to session: Subscriber, pattern subscription: CursorSubscription) {
        subscription.dirty = true
        guard !session.checkpointQueued else { return }
        session.checkpointQueued = true
        checkpointsDue.append(session)
    }

    /// Marks the cursor subscriptions of `session` matching `topic` as due for a checkpoint.
    func noteDelivery(to session: Subscriber, topic: TopicName) {
        for subscription in session.cursors! where subscription.pattern.matches(topic) {
            noteDelivery(to: session, pattern: subscription)
        }
    }

    /// End of turn: one checkpoint per subscription that received messages in it. Live
    /// subscriptions all stand at the loop's `heard`: their cursor text is made once.
    func sendCheckpoints() {
        var live: String?
        for session in checkpointsDue {
            session.checkpointQueued = false
            guard session.connection.takesDeliveries, let cursors = session.cursors else { continue }
            for subscription in cursors where subscription.dirty {
                subscription.dirty = false
                guard subscription.acked else { continue }
                let cursor: String
                if subscription.replay?.replays == true {
                    cursor = cursorText(for: subscription)
                } else {
                    if live == nil { live = Cursor(epoch: serverEpoch, offsets: heard).text }
                    cursor = live!
                }
                session.checkpoint(pattern: subscription.pattern, cursor: cursor)
            }
        }
        checkpointsDue.removeAll(keepingCapacity: true)
    }
}

/// One topic's retained frames still to replay in a page.
struct ReplaySource {
    let state: TopicState
    var next: Int

    var frame: OutboundBytes? { next < state.history.count ? state.history.frame(at: next) : nil }
    var offset: UInt64 { frame?.stamp?.offset ?? .max }
}

/// A binary min-heap of replay sources by the offset of their next frame: a page of `k`
/// frames from `t` topics costs O(t + k log t), not O(k t).
struct ReplayHeap {
    private var items: [ReplaySource]

    init(_ sources: [ReplaySource]) {
        items = sources.filter { $0.frame != nil }
        var index = items.count / 2
        while index > 0 {
            index -= 1
            siftDown(index)
        }
    }

    var isEmpty: Bool { items.isEmpty }

    func peek() -> OutboundBytes? { items.first?.frame }

    /// Takes the smallest source's frame: moves it on, or drops it once exhausted.
    mutating func advance() {
        guard !items.isEmpty else { return }
        items[0].next += 1
        if items[0].frame == nil {
            items.swapAt(0, items.count - 1)
            items.removeLast()
        }
        if !items.isEmpty { siftDown(0) }
    }

    private mutating func siftDown(_ start: Int) {
        var parent = start
        while true {
            let left = 2 * parent + 1
            let right = left + 1
            var smallest = parent
            if left < items.count && items[left].offset < items[smallest].offset { smallest = left }
            if right < items.count && items[right].offset < items[smallest].offset { smallest = right }
            if smallest == parent { return }
            items.swapAt(parent, smallest)
            parent = smallest
        }
    }
}
