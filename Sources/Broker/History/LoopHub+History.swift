import Topics

/// A replay this loop is receiving from a topic's owner, page by page.
struct ReplayProgress {
    let connection: UInt64
    let topic: TopicName
    let requestID: [UInt8]?
    /// Where the first page starts.
    var start: ReplayStart = .last(0)
    var first = true
    /// Where the next page starts.
    var next: (epoch: String, seq: UInt64)?
}

/// Resume from history (Protocol.md "History and resume"). The resuming subscriber's loop
/// subscribes it at once but skips its live messages for the topic; the owner cuts a page of
/// retained frames and sends it over the same owner→loop path as live messages, with the
/// topic's position at that moment. Live messages after the page are above that position, so
/// the seam has no gap and no duplicate whatever else is being published. Pages are at most
/// half a send queue; the next is asked for when the subscriber's queue has drained.
extension LoopHub {
    var replayPageSize: Int { max(1, min(config.sendQueueMessages / 2, 500)) }
    /// Pages hold at most half a send queue of bytes too (large messages).
    var replayPageBytes: Int { config.effectiveSendQueueBytes / 2 }

    func resume(_ session: Subscriber, topic: TopicName, from start: ReplayStart, requestID: [UInt8]?) {
        // Interest first: the owner applies it before it cuts the page (one FIFO).
        addSubscription(session, TopicPattern(topic))
        session.setFloor(.max, for: topic)
        nextToken += 1
        replays[nextToken] = ReplayProgress(connection: session.connection.id, topic: topic, requestID: requestID, start: start)
        askForPage(nextToken, for: session)
    }

    /// Replays share their connection's queue, so they take turns: one page out per
    /// connection, the next asked for once its frames are written (`pageWritten`). Two
    /// replays at once (a topic and a pattern) would otherwise each fill half the queue and
    /// together overflow it.
    func askForPage(_ token: UInt64, for session: Subscriber) {
        guard session.pageOwner == nil else {
            if !session.pendingReplays.contains(token) { session.pendingReplays.append(token) }
            return
        }
        if let replay = patternReplays[token] {
            session.pageOwner = token
            return continuePatternReplay(replay)
        }
        guard let progress = replays[token] else { return }
        session.pageOwner = token
        let start = progress.next.map { ReplayStart.from(epoch: $0.epoch, seq: $0.seq) } ?? progress.start
        sendOnceActive(TopicPattern(progress.topic), .replay(ReplayRequest(topic: progress.topic, start: start, limit: replayPageSize,
                                                                           maxBytes: replayPageBytes, replyLoop: index, token: token)),
                       to: owner(of: progress.topic))
    }

    /// A page was handed to `session` (or the replay ended): its turn ends once the queue
    /// is written out; `wantsMore` puts the replay back in line.
    func pageDelivered(to session: Subscriber, token: UInt64, wantsMore: Bool) {
        if wantsMore && !session.pendingReplays.contains(token) { session.pendingReplays.append(token) }
        session.connection.notifyWhenDrained()
    }

    /// `session`'s queue was written out: the next replay in line asks for its page.
    func pageWritten(by session: Subscriber) {
        session.pageOwner = nil
        while session.pageOwner == nil && !session.pendingReplays.isEmpty {
            askForPage(session.pendingReplays.removeFirst(), for: session)
        }
    }

    /// GET /history/<topic>: one page for an HTTP connection of this loop, at most `maxBytes`
    /// of frames (but at least one message).
    func history(for connection: UInt64, topic: TopicName, from start: ReplayStart, limit: Int, maxBytes: Int) {
        nextToken += 1
        replays[nextToken] = ReplayProgress(connection: connection, topic: topic, requestID: nil)
        send(.replay(ReplayRequest(topic: topic, start: start, limit: limit, maxBytes: maxBytes, replyLoop: index, token: nextToken)),
             to: owner(of: topic))
    }

    /// A session left: forget the replays it was receiving.
    func forgetReplays(of session: Subscriber) {
        // Most sessions never resumed: nothing to forget, and `replays` is left alone.
        guard session.pageToken != 0 || !session.pendingReplays.isEmpty else { return }
        for token in session.pendingReplays + [session.pageOwner].compactMap({ $0 }) { replays[token] = nil }
        session.pendingReplays = []
        session.pageOwner = nil
        replays.shrinkIfSparse()
    }

    /// The owner's side: a page of retained frames from the requested position.
    func serveReplay(_ request: ReplayRequest) {
        let state = state(of: request.topic)
        ledger.trim(state, now: loop.now)
        let first = state.history.firstSeq
        let (start, recovered) = request.start.resolve(epoch: state.epoch, seq: state.seq, firstRetained: first)
        let frames = start.map { state.history.frames(from: max($0, first ?? $0), limit: request.limit, maxBytes: request.maxBytes) } ?? []
        // Done when the page reaches the newest message (or history holds nothing from there).
        let done = frames.last.map { ($0.stamp?.position.seq ?? 0) >= state.seq } ?? true
        let page = ReplayPage(token: request.token, frames: frames, position: state.position, recovered: recovered,
                              earliest: first.map { TopicPosition(epoch: state.epoch, seq: $0) }, done: done)
        send(.replayPage(page), to: request.replyLoop)
        // A GET /history of a topic nobody subscribes to and nobody published to leaves nothing.
        if state.seq == 0 { forgetIfUnused(request.topic) }
    }

    /// The asking loop's side: the endpoint takes the page (a subscriber's ack and frames, or
    /// an HTTP answer) and says whether it wants the next one.
    func receivePage(_ page: ReplayPage) {
        guard var progress = replays.removeValue(forKey: page.token) else { return }
        replays.shrinkIfSparse()
        guard let endpoint = loop.endpoint(progress.connection) else { return }
        var wantsMore = endpoint.received(page, of: progress)
        if wantsMore, !page.done, let last = page.frames.last?.stamp?.position {
            progress.first = false
            progress.next = (last.epoch, last.seq + 1)
            replays[page.token] = progress
        } else {
            wantsMore = false
        }
        if let session = endpoint as? Subscriber { pageDelivered(to: session, token: page.token, wantsMore: wantsMore) }
    }
}

extension ReplayStart {
    /// The first seq to replay (nil: nothing) and whether the replay is a complete recovery,
    /// for a topic at (`epoch`, `seq`) whose history holds `firstRetained` and up.
    ///
    /// Client numbers are never incremented: `since` = (current epoch, 2^64−1) once wrapped
    /// `seq + 1` to 0 and replayed everything as `recovered: true` (issue 13). A `since` at the
    /// topic's own position is up to date (nothing to send, recovered); beyond it is a position
    /// this epoch never issued, so nothing is replayed and it is not a recovery.
    func resolve(epoch: String, seq current: UInt64, firstRetained: UInt64?) -> (start: UInt64?, recovered: Bool) {
        let holds = { (seq: UInt64) in firstRetained.map { $0 <= seq } ?? false }
        switch self {
        case .since(let since, let seq) where since == epoch:
            if seq == current { return (nil, true) }
            if seq > current { return (nil, false) }
            return (seq + 1, holds(seq + 1))  // seq < current: no overflow
        case .since:
            // A position from another life of the topic: everything retained of this one.
            return (firstRetained, false)
        case .last(let count):
            guard count > 0 else { return (nil, true) }
            let wanted = UInt64(count)
            let start: UInt64 = current >= wanted ? current - wanted + 1 : 1
            return (start > current ? nil : start, start > current || holds(start))
        case .from(let from, let seq):
            return (seq > current ? nil : seq, from == epoch && (seq > current || holds(seq)))
        }
    }
}
