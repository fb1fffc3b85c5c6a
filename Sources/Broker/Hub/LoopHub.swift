import Topics

/// One loop's part of the generalised hub. Loops treat each other as cluster nodes:
/// - every topic has an **owner** loop (a hash of its name) that keeps its sequence state,
///   encodes each of its messages once and hands the shared bytes to each interested loop;
/// - every loop keeps a **local trie** (pattern → its own subscribed sessions) and an
///   **interest trie** (pattern → which loops have subscribers), kept current by the loops
///   announcing a pattern when its first local subscriber arrives and withdrawing it when the
///   last leaves, as NATS propagates interest between servers.
/// Everything here is touched by the owning loop only.
final class LoopHub {
    let index: Int
    let loopCount: Int
    private let peers: [LoopInbox]
    /// The loop this hub belongs to, for the little the hub needs of it: the turn's time, its
    /// metrics, the endpoints waiting for answers (by connection id) and, on loop 0, the NATS
    /// backplane. `unowned(unsafe)`: the loop makes its hub and outlives it, and sets this once,
    /// in its init, before it runs; a checked reference would cost a retain and a release per
    /// use on the publish path. Implicitly unwrapped only because the hub is made first.
    unowned(unsafe) var loop: EventLoop!

    /// Runs `body` with the loop, for what changes it (`loop.metrics.x &+= 1`): through
    /// `unowned(unsafe)` only plain reads are free, and each change retained and released the
    /// loop (two atomics on the publish path, per metric); `Unmanaged`'s guaranteed reference
    /// does neither (as `Connection.onLoop`).
    @inline(__always)
    func onLoop<R>(_ body: (EventLoop) -> R) -> R { Unmanaged.passUnretained(loop)._withUnsafeGuaranteedRef(body) }
    let config: ServerConfig

    /// Pattern → this loop's subscribers to it. Its match cache is 16× NATS's 1,024:
    /// with many small topics (chat rooms, per-user channels) every delivery that misses walks
    /// the trie and evicts an entry, which cost a third of the hub's time with 9,000 topics.
    /// Bounded by topics and by the 65,536 session references all results hold together:
    /// about 2.5 MB per loop with short topic names, up to about 7 MB with 256-byte ones, and
    /// only for topics actually published. (A wildcard subscribe or unsubscribe voids it at
    /// once rather than scanning it: see `MatchCache`.)
    let subscriptions = SubscriptionTrie<Subscriber>(cacheCapacity: 16384)
    /// This loop's patterns whose announcement to the other loops is still in flight, and its
    /// token. How many local sessions hold a pattern is the local trie's count (no table of
    /// its own: with a topic per subscriber, one more entry per topic).
    private var announcing: [TopicPattern: UInt64] = [:]
    /// Patterns held by sessions that negotiated permessage-deflate: how many per window, so
    /// owners compress each message once for them (`InterestUpdate.deflateWindows`). Empty
    /// while no compressing session subscribes.
    private var deflateWindows: [TopicPattern: DeflateWindowCounts] = [:]
    private var announcements: [UInt64: Announcement] = [:]
    private var positionWaiters: [UInt64: SubscribeWaiter] = [:]
    var nextToken: UInt64 = 0
    /// Replays this loop's sessions are receiving, by token.
    var replays: [UInt64: ReplayProgress] = [:]
    /// Pattern resumes of this loop's sessions, by token.
    var patternReplays: [UInt64: PatternReplay] = [:]
    /// This server life's epoch: the first part of every cursor.
    let serverEpoch: String
    /// Per owner loop, the offset of the last message heard from it (see `LoopHub+PatternResume`).
    var heard: [UInt64]
    /// Sessions with a cursor subscription that received messages this turn.
    var checkpointsDue: [Subscriber] = []

    /// Pattern → loops with subscribers (with their counts, for publish acks). Entries whose
    /// loop's subscribers all left stay at count 0 until pruned (`IdleInterest`): every reader
    /// skips them.
    let interest = SubscriptionTrie<InterestEntry>()
    private(set) var idleInterest = IdleInterest()
    private var loopMarks: [Bool]
    private var loopsToSend: [Int] = []

    /// Messages for each loop collected during this turn, posted together at its end: one
    /// lock and at most one eventfd wake-up per peer per turn, instead of one per message.
    /// This loop's own messages are handled then too, without a trip through its inbox.
    private var outbox: [[LoopCommand]]
    private var outboxTargets: [Int] = []
    private var spareOwn: [LoopCommand] = []

    /// The sequence state and history of the topics this loop owns.
    var topics: TopicTable
    var ledger: HistoryLedger

    /// Cluster mode: interest and publishes also go to the NATS backplane.
    let clustered: Bool
    /// `--data-dir`: this loop's side of the history store (records, and deliveries waiting
    /// for the disk); nil keeps history in memory only. Set once, before the loop runs.
    var durable: DurableHub?

    init(index: Int, peers: [LoopInbox], config: ServerConfig, serverEpoch: String = TopicTable.newEpoch()) {
        self.index = index
        self.serverEpoch = serverEpoch
        heard = Array(repeating: 0, count: peers.count)
        clustered = config.nats != nil
        self.peers = peers
        self.config = config
        loopCount = peers.count
        loopMarks = Array(repeating: false, count: peers.count)
        outbox = Array(repeating: [], count: peers.count)
        let share = max(1, peers.count)
        topics = TopicTable(capacity: max(1, config.maxTopics / share))
        ledger = HistoryLedger(budget: config.historyBytes / share,
                               longestAge: UInt64(config.longestHistoryAge * 1_000_000_000))
    }

    var topicStateCount: Int { topics.count }
    /// Subscriptions held by this loop's sessions (one per pattern per session).
    private(set) var subscriptionCount = 0

    /// The owner's state of `topic`, created if absent; an evicted state's history is freed.
    func state(of topic: TopicName) -> TopicState {
        let (state, evicted) = topics.state(for: topic, policy: config.historyPolicy(for: topic))
        if let evicted { ledger.evict(evicted) }
        return state
    }

    /// Once per timing-wheel tick: history of idle topics expires.
    func tick(now: UInt64) { ledger.sweep(now: now) }

    /// The loop that sequences `topic`: FNV-1a of its bytes, so every loop agrees.
    func owner(of topic: TopicName) -> Int { owner(spelled: topic.string.utf8) }

    private func owner(spelled bytes: some Sequence<UInt8>) -> Int {
        guard loopCount > 1 else { return 0 }
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in bytes { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3 }
        return Int(hash % UInt64(loopCount))
    }

    /// Queues `message` for `target` (this loop included); it goes at the end of the turn.
    func send(_ message: HubMessage, to target: Int) {
        if target != index && outbox[target].isEmpty { outboxTargets.append(target) }
        outbox[target].append(.hub(message))
    }

    /// Ends the turn's messaging: handles this loop's own messages (and any they lead to),
    /// then posts each peer's messages in the order they were sent, as one batch.
    func postOutbox() {
        while !outbox[index].isEmpty {
            var own = spareOwn
            swap(&own, &outbox[index])
            for case .hub(let message) in own { receive(message) }
            own.removeAllReusingCapacity()
            spareOwn = own
        }
        if !checkpointsDue.isEmpty { sendCheckpoints() }
        guard !outboxTargets.isEmpty else { return }
        for target in outboxTargets {
            peers[target].post(contentsOf: outbox[target])
            outbox[target].removeAllReusingCapacity()
        }
        outboxTargets.removeAll(keepingCapacity: true)
    }

    /// The loop is quiet: outbox buffers a burst grew go back to the allocator (a batch
    /// buffer shrinks by itself only when a later, smaller batch passes through it).
    func releaseIdleCapacity() {
        for target in outbox.indices where outbox[target].isEmpty && outbox[target].capacity > SparseCapacity.floor {
            outbox[target] = []
        }
        if spareOwn.capacity > SparseCapacity.floor { spareOwn = [] }
    }

    // MARK: subscribing

    /// Adds the subscription and acks it once active (see Protocol.md, subscribe).
    func subscribe(_ session: Subscriber, to pattern: TopicPattern, requestID: [UInt8]?, checkpoints: Bool = false) {
        if checkpoints { return followCursor(session, pattern: pattern, requestID: requestID) }
        let announced = addSubscription(session, pattern)
        if announced == 0 && session.takesAckDuringRequest && session.liveFloors == nil && appliesAtOnce(pattern) {
            // Nothing is in flight for this pattern: its interest is applied already, and its
            // owner, this loop, tells the position now (as `position` at the end of the turn would).
            // Not while the session resumes a topic: that resume's ack and replay, answered at
            // the end of the turn, must not be overtaken by a later ack with a newer seq.
            let position = pattern.literal.map { state(of: $0).position }
            session.connection.endpoint?.subscribed(requestID: requestID, pattern: pattern, position: position)
            return
        }
        let waiter = SubscribeWaiter(connection: session.connection.id, requestID: requestID, pattern: pattern)
        // A first subscriber's announcement is known without looking the pattern up again.
        if let token = announced != 0 ? announced : announcing[pattern] {
            announcements[token]?.waiters.append(waiter)
        } else if let topic = pattern.literal {
            nextToken += 1
            positionWaiters[nextToken] = waiter
            send(.position(topic: topic, replyLoop: index, token: nextToken), to: owner(of: topic))
        } else {
            acknowledge(waiter, position: nil)
        }
    }

    /// Returns the token of the announcement it started (the pattern's first local
    /// subscriber), else 0.
    @discardableResult
    func addSubscription(_ session: Subscriber, _ pattern: TopicPattern) -> UInt64 {
        guard session.patterns.insert(pattern) else { return 0 }
        let count = subscriptions.insertCounting(session, for: pattern) ?? subscriptions.count(for: pattern)
        return changeLocalCount(pattern, to: count, by: 1, deflateWindow: session.deflateWindow)
    }

    /// Removes one subscription; false when the session does not hold the pattern.
    func unsubscribe(_ session: Subscriber, from pattern: TopicPattern) -> Bool {
        guard session.patterns.remove(pattern) else { return false }
        if let topic = pattern.literal { session.liveFloors?[topic] = nil }
        if let subscription = session.cursorSubscription(for: pattern) {
            if let replay = subscription.replay { forget(replay) }
            session.removeCursorSubscription(for: pattern)
        }
        let count = subscriptions.removeCounting(session, for: pattern) ?? subscriptions.count(for: pattern)
        changeLocalCount(pattern, to: count, by: -1, deflateWindow: session.deflateWindow)
        return true
    }

    /// A session's connection left: every subscription goes.
    func remove(_ session: Subscriber) {
        forgetReplays(of: session)
        if let cursors = session.cursors {
            for case let replay? in cursors.map(\.replay) { forget(replay) }
            session.cursors = nil
        }
        guard !session.patterns.isEmpty else { return }
        // Pattern by pattern rather than `removeAll(_:for:)`, whose generic walk of the set
        // goes through its unspecialised witnesses (about 2,600 instructions a connection).
        for pattern in session.patterns {
            let count = subscriptions.removeCounting(session, for: pattern) ?? subscriptions.count(for: pattern)
            changeLocalCount(pattern, to: count, by: -1, deflateWindow: session.deflateWindow)
        }
        session.patterns = SmallSet()
    }

    /// `delta` local sessions joined or left `pattern`, which `count` now hold (the trie
    /// already holds the change, and said the count as it made it). Returns the token of the
    /// announcement a first subscriber starts, else 0.
    @discardableResult
    private func changeLocalCount(_ pattern: TopicPattern, to count: Int, by delta: Int, deflateWindow: Int) -> UInt64 {
        subscriptionCount += delta
        let before = count - delta
        let windows = deflateWindow == 0 ? deflateWindows[pattern]?.mask ?? 0 : changeDeflateWindow(pattern, deflateWindow, by: delta)
        if appliesAtOnce(pattern) {
            // The only loop to tell is this one: no announcement, no round trip through the
            // outbox (see `appliesAtOnce`). What `interestApplied` would note, noted here.
            applyInterest(pattern, loop: index, count: count, deflateWindows: windows)
            if before == 0 { heard[index] = max(heard[index], ledger.published) }
            return 0
        }
        var token: UInt64 = 0
        if count == 0 {
            if announcing.removeValue(forKey: pattern) != nil { announcing.shrinkIfSparse() }
        } else if before == 0 {
            nextToken += 1
            token = nextToken
            announcing[pattern] = token
            // In cluster mode the backplane's SUB is one more reply to wait for.
            announcements[token] = Announcement(pattern: pattern, repliesLeft: targets(of: pattern).count + (clustered ? 1 : 0))
        }
        if clustered && (before == 0) != (count == 0) {
            send(.backplaneInterest(pattern: pattern, loop: index, token: token, add: count > 0), to: 0)
        }
        let update = InterestUpdate(pattern: pattern, loop: index, count: count, deflateWindows: windows, token: token)
        for target in targets(of: pattern) { send(.interest(update), to: target) }
        return token
    }

    /// Counts a compressing session joining or leaving `pattern`; the pattern's windows after.
    private func changeDeflateWindow(_ pattern: TopicPattern, _ window: Int, by delta: Int) -> UInt16 {
        var counts = deflateWindows[pattern] ?? DeflateWindowCounts()
        counts.change(window: window, by: delta)
        if counts.mask == 0 {
            if deflateWindows.removeValue(forKey: pattern) != nil { deflateWindows.shrinkIfSparse() }
        } else {
            deflateWindows[pattern] = counts
        }
        return counts.mask
    }

    /// Sends `message` once `pattern` is active everywhere it must be. In cluster mode a first
    /// subscriber's resume waits for NATS to route the pattern here, so that the owners have
    /// marked the gap before them (`backplaneRegained`) when they serve it; alone, interest
    /// and the request travel the same FIFO path and it goes at once.
    func sendOnceActive(_ pattern: TopicPattern, _ message: HubMessage, to target: Int) {
        guard clustered, let token = announcing[pattern], announcements[token] != nil else {
            return send(message, to: target)
        }
        announcements[token]!.deferred.append((message, target))
    }

    /// Whether this loop's interest in `pattern` changes only this loop's tables: every topic
    /// it matches is owned here (a literal owned here, or a lone loop), and neither NATS nor
    /// the disk must hear of it first. Then an interest update is applied as it happens,
    /// in order with the session's requests, instead of at the end of the turn, and a
    /// subscribe is acked at once: nothing can be sequenced in between (the owner is this
    /// loop, and it is busy here). Callers inside a fan-out only ever withdraw interest,
    /// which creates no topic state and so evicts none.
    private func appliesAtOnce(_ pattern: TopicPattern) -> Bool {
        guard !clustered, durable == nil else { return false }
        guard let topic = pattern.literal else { return loopCount == 1 }
        return owner(of: topic) == index
    }

    /// The loops that may own a topic the pattern matches: one for a literal, all otherwise.
    private func targets(of pattern: TopicPattern) -> Range<Int> {
        guard let topic = pattern.literal else { return 0..<loopCount }
        let owner = owner(of: topic)
        return owner..<(owner + 1)
    }

    private func acknowledge(_ waiter: SubscribeWaiter, position: TopicPosition?) {
        loop.endpoint(waiter.connection)?.subscribed(requestID: waiter.requestID, pattern: waiter.pattern, position: position)
    }

    // MARK: publishing

    /// Publishes from a connection of this loop: sequenced here when this loop owns the
    /// topic (no copy of the payload), else copied once and sent to the owner.
    func publish(topic: TopicName, kind: PayloadKind, payload: UnsafeRawBufferPointer, origin: PublishOrigin) {
        let owner = owner(of: topic)
        if owner == index && durable?.holdsPublishes != true {
            sequence(topic: topic, kind: kind, payload: payload, origin: origin)
        } else {
            send(.publish(PublishRequest(topic: topic, kind: kind, payload: Array(payload), origin: origin)), to: owner)
        }
    }

    /// The same for a topic as a binary publish brought it: when this loop owns the topic and
    /// holds its state, no `TopicName` is made (the state has it).
    func publish(topic: TopicBytes, kind: PayloadKind, payload: UnsafeRawBufferPointer, origin: PublishOrigin) {
        let owner = owner(spelled: topic.bytes)
        if owner == index && durable?.holdsPublishes != true {
            if let state = topics.existingState(spelled: topic) {
                sequence(state: state, kind: kind, payload: payload, origin: origin)
            } else {
                sequence(topic: topic.name, kind: kind, payload: payload, origin: origin)
            }
        } else {
            send(.publish(PublishRequest(topic: topic.name, kind: kind, payload: Array(payload), origin: origin)), to: owner)
        }
    }

    private func sequence(topic: TopicName, kind: PayloadKind, payload: UnsafeRawBufferPointer, origin: PublishOrigin) {
        sequence(state: state(of: topic), kind: kind, payload: payload, origin: origin)
    }

    /// The owner's work: next sequence number, one encoding, one hand-off per interested loop.
    private func sequence(state: TopicState, kind: PayloadKind, payload: UnsafeRawBufferPointer, origin: PublishOrigin) {
        var state = state
        var seq = state.next()
        if seq == nil {
            let renewed = topics.renew(state.topic, policy: state.policy)
            if let old = renewed.evicted { ledger.evict(old) }
            state = renewed.state
            seq = state.next()
        }
        let position = TopicPosition(epoch: state.epoch, seq: seq!)
        let frame = DeliveryFrame.make(kind: kind, topic: state.topic, position: position, payload: payload, arrival: origin.arrival,
                                       owner: index, offset: ledger.nextOffset())
        topics.markPublished(state)
        onLoop {
            $0.metrics.published[kind] &+= 1
            $0.metrics.publishedBytes[kind] &+= UInt64(payload.count)
        }
        // --data-dir: the record goes to the disk; in the modes that wait, delivery follows it.
        if let durable, durable.record(frame, state: state, kind: kind, payload: payload, origin: origin) { return }
        deliver(frame, state: state, payload: payload, origin: origin)
    }

    /// Retains a sequenced message, fans it out and acks it (at once, or once it is on disk).
    /// `retain` is false for a state evicted while its message waited for the disk.
    func deliver(_ frame: OutboundBytes, state: TopicState, payload: UnsafeRawBufferPointer, origin: PublishOrigin, retain: Bool = true) {
        // `state.topic` where it is used: a local copy retained and released its string per
        // message. Fields, not the whole stamp: a copy of it retains its topic and epoch.
        guard let kind = frame.stamp?.kind else { return }
        if retain { ledger.retain(frame, in: state, now: loop.now) }
        var subscribers = 0
        var deflateWindows: UInt16 = 0
        interestedLoops(in: state).forEachBorrowed { entry in
            guard entry.count > 0 else { return }
            subscribers += entry.count
            deflateWindows |= entry.deflateWindows
            if !loopMarks[entry.loop] {
                loopMarks[entry.loop] = true
                loopsToSend.append(entry.loop)
            }
        }
        if deflateWindows != 0 { precompress(frame, for: deflateWindows) }
        for target in loopsToSend {
            loopMarks[target] = false
            if target == index { fanOut(frame, topic: state.topic, state: state) } else { send(.fanOut(frame: frame, topic: state.topic), to: target) }
        }
        loopsToSend.removeAll(keepingCapacity: true)
        if clustered && !origin.fromBackplane { forwardToBackplane(topic: state.topic, kind: kind, payload: payload) }
        if origin.requestID != nil || origin.wantsOutcome {
            let outcome = PublishOutcome(topic: state.topic, position: frame.stamp!.position, subscribers: subscribers)
            if origin.loop == index {
                loop.endpoint(origin.connection)?.published(requestID: origin.requestID, outcome: outcome)
            } else {
                send(.published(connection: origin.connection, requestID: origin.requestID, outcome: outcome), to: origin.loop)
            }
        }
    }

    /// Compresses a message once per window its compressing subscribers negotiated, before
    /// it leaves the owner: the subscriber loops then only pick the shared bytes up.
    private func precompress(_ frame: OutboundBytes, for windows: UInt16) {
        guard loop.compression.enabled, frame.count >= loop.compression.minFrameBytes else { return }
        var windows = windows
        while windows != 0 {
            let bits = windows.trailingZeroBitCount
            windows &= windows - 1
            _ = loop.compressedEncoding(of: frame, windowBits: bits)
        }
    }

    /// Another encoding of a message was made (on this loop): it counts against its owner's
    /// history budget while the owner holds the message.
    func chargeEncoding(of frame: OutboundBytes, bytes: Int) {
        guard let stamp = frame.stamp else { return }
        if stamp.owner == index {
            chargeOwnEncoding(of: frame, bytes: bytes)
        } else {
            send(.encodingMade(frame: frame, bytes: bytes), to: stamp.owner)
        }
    }

    private func chargeOwnEncoding(of frame: OutboundBytes, bytes: Int) {
        guard let stamp = frame.stamp, let state = topics.peek(stamp.topic) else { return }
        ledger.charge(frame, bytes: bytes, in: state)
    }

    /// The loops interested in the state's topic, remembered on the state until interest changes.
    private func interestedLoops(in state: TopicState) -> MatchResult<InterestEntry> {
        if let known = state.interest?.ifCurrent(interest.generation) { return known }
        let result = interest.match(state.topic)
        state.interest = RememberedMatch(result: result, generation: interest.generation)
        return result
    }

    /// Fans a message out on this loop: queues it to every local session whose patterns match
    /// (once per session). A session resuming this topic skips live messages its replay covers.
    /// `state`: the topic's, when this loop owns it (its local match is remembered there).
    func fanOut(_ frame: OutboundBytes, topic: TopicName, state: TopicState? = nil) {
        var queued: UInt64 = 0
        if let owner = frame.stamp?.owner, let offset = frame.stamp?.offset, offset > heard[owner] { heard[owner] = offset }
        localSubscribers(of: topic, state: state).forEachBorrowed { session in
            if session.liveFloors != nil && !session.acceptsLive(frame, topic: topic) { return }
            if session.cursors != nil {
                if skipsDuringReplay(session, frame, topic: topic) { return }
                noteDelivery(to: session, topic: topic)
            }
            if session.deliver(frame) { queued += 1 }
        }
        guard queued > 0, let kind = frame.stamp?.kind else { return }
        onLoop {
            $0.metrics.delivered[kind] &+= queued
            $0.metrics.deliveredBytes[kind] &+= queued &* UInt64(frame.count)
        }
    }

    /// The local sessions whose patterns match `topic`; remembered on its state when given.
    private func localSubscribers(of topic: TopicName, state: TopicState?) -> MatchResult<Subscriber> {
        guard let state else { return subscriptions.match(topic) }
        if let known = state.localMatch?.ifCurrent(subscriptions.generation) { return known }
        let result = subscriptions.match(topic)
        state.localMatch = RememberedMatch(result: result, generation: subscriptions.generation)
        return result
    }

    /// A session resuming a pattern skips live messages its replay will carry.
    private func skipsDuringReplay(_ session: Subscriber, _ frame: OutboundBytes, topic: TopicName) -> Bool {
        guard let owner = frame.stamp?.owner else { return false }
        for subscription in session.cursors! where subscription.skips(owner: owner, topic: topic, keepsHistory: {
            config.historyPolicy(for: topic).messages > 0
        }) { return true }
        return false
    }

    // MARK: messages from other loops

    func receive(_ message: HubMessage) {
        // --data-dir: what would observe topics' state waits while their messages are being written.
        if let durable, durable.holds(message) { return }
        switch message {
        case .publish(let request):
            request.payload.withUnsafeBytes {
                sequence(topic: request.topic, kind: request.kind, payload: $0, origin: request.origin)
            }
        case .fanOut(let frame, let topic):
            fanOut(frame, topic: topic)
        case .interest(let update):
            apply(update)
        case .interestApplied(let token, let position, let owner, let clock):
            heard[owner] = max(heard[owner], clock)
            guard var announcement = announcements[token] else { return }
            announcement.repliesLeft -= 1
            if let position { announcement.position = position }
            guard announcement.repliesLeft <= 0 else {
                announcements[token] = announcement
                return
            }
            announcements[token] = nil
            announcements.shrinkIfSparse()
            // One hash of the pattern: the entry is checked and removed at its index.
            if let entry = announcing.index(forKey: announcement.pattern), announcing.values[entry] == token {
                announcing.remove(at: entry)
                announcing.shrinkIfSparse()
            }
            for waiter in announcement.waiters { acknowledge(waiter, position: announcement.position) }
            for (message, target) in announcement.deferred { send(message, to: target) }
        case .position(let topic, let replyLoop, let token):
            let state = state(of: topic)
            send(.positionReply(token: token, position: state.position), to: replyLoop)
            // Its asker may have left in the turn it asked (an event stream, whose interest was
            // applied and withdrawn at once, see `appliesAtOnce`): a state never published goes.
            if state.seq == 0 { forgetIfUnused(topic) }
        case .replay(let request):
            serveReplay(request)
        case .replayPage(let page):
            receivePage(page)
        case .patternReplay(let request):
            servePatternReplay(request)
        case .patternPage(let page):
            receivePatternPage(page)
        case .positionReply(let token, let position):
            guard let waiter = positionWaiters.removeValue(forKey: token) else { return }
            positionWaiters.shrinkIfSparse()
            acknowledge(waiter, position: position)
        case .published(let connection, let requestID, let outcome):
            loop.endpoint(connection)?.published(requestID: requestID, outcome: outcome)
        case .backplaneInterest(let pattern, let from, let token, let add):
            if add { loop.backplane?.retain(pattern, loop: from, token: token) } else { loop.backplane?.release(pattern) }
        case .backplanePublish(let bytes):
            loop.backplane?.send(publish: bytes)
        case .backplaneEpoch:
            renewEpochsWithSubscribers()
        case .backplaneRegained(let pattern):
            renewAfterInterestGap(pattern)
        case .encodingMade(let frame, let bytes):
            chargeOwnEncoding(of: frame, bytes: bytes)
        }
    }

    private func apply(_ update: InterestUpdate) {
        applyInterest(update.pattern, loop: update.loop, count: update.count, deflateWindows: update.deflateWindows)
        guard update.token != 0 else { return }
        // A literal pattern's only target is its owner, which answers with the position.
        let position = update.pattern.literal.map { state(of: $0).position }
        send(.interestApplied(token: update.token, position: position, owner: index, clock: ledger.published), to: update.loop)
    }

    /// `loop` now holds `count` subscriptions to `pattern` (an `InterestUpdate`'s fields,
    /// apart so that this loop's own change is applied without making and copying one).
    private func applyInterest(_ pattern: TopicPattern, loop: Int, count: Int, deflateWindows: UInt16) {
        // A loop's entry is found in the trie, among the pattern's few (one per loop at most).
        // A withdrawn entry stays at count 0 (see `IdleInterest`), so a loop's next subscriber
        // finds it again. One scan of the pattern's few entries (one per loop at most) finds
        // it and whether another loop is interested.
        var entry: InterestEntry?
        var othersLive = false
        _ = interest.first(for: pattern) { candidate in
            if candidate.loop == loop { entry = candidate } else if candidate.count > 0 { othersLive = true }
            return false
        }
        if let entry {
            let wasLive = entry.count > 0
            entry.count = count
            entry.deflateWindows = count > 0 ? deflateWindows : 0
            if count == 0 && wasLive {
                idleInterest.wentIdle(entry)
                // `forgetIfUnused`, its scan done above.
                if let topic = pattern.literal, !othersLive, durable == nil { topics.forgetIfNeverPublished(topic) }
                if idleInterest.shouldPrune(total: interest.count) { pruneIdleInterest() }
            } else if count > 0 && !wasLive {
                idleInterest.revived()
            }
        } else if count > 0 {
            let entry = InterestEntry(loop: loop, pattern: pattern, count: count)
            entry.deflateWindows = deflateWindows
            interest.insert(entry, for: pattern)
        }
    }

    /// Nobody on any loop subscribes to `topic` by name any more: a state that never had a
    /// message is forgotten (it costs a few hundred bytes; a topic per user would keep every
    /// one ever subscribed). Created again, it gets the same epoch unless a state was evicted
    /// or renewed meanwhile (`TopicTable.epoch(for:)`), so a `since` at seq 0 still resumes.
    /// With `--data-dir` states stay: each creation writes its epoch to disk.
    func forgetIfUnused(_ topic: TopicName) {
        guard durable == nil, interest.first(for: TopicPattern(topic), where: { $0.count > 0 }) == nil else { return }
        topics.forgetIfNeverPublished(topic)
    }

    /// Removes the interest entries left at count 0 (their topics' states were forgotten when
    /// they went idle).
    private func pruneIdleInterest() {
        for entry in idleInterest.takeIdle() { interest.remove(entry, for: entry.pattern) }
    }
}

/// A first subscriber's announcement, waiting for every target loop's reply.
private struct Announcement {
    let pattern: TopicPattern
    var repliesLeft: Int
    var waiters: [SubscribeWaiter] = []
    var position: TopicPosition?
    /// Requests that wait for the pattern to be active (see `sendOnceActive`).
    var deferred: [(HubMessage, Int)] = []
}

/// A subscribe waiting for its ack.
struct SubscribeWaiter {
    let connection: UInt64
    let requestID: [UInt8]?
    let pattern: TopicPattern
}

/// One loop's interest in one pattern, as the interest trie stores it.
final class InterestEntry: Hashable {
    let pattern: TopicPattern
    /// Narrow fields: one entry per pattern per loop, 48 bytes rather than 64.
    private let loopIndex: Int16
    /// The windows its compressing subscribers negotiated (see `InterestUpdate`: bits 9–15),
    /// and in bit 0, which no window uses, `listedIdle`: a field of its own would make the
    /// entry 64 bytes again.
    private var bits: UInt16 = 0
    var deflateWindows: UInt16 {
        get { bits & ~1 }
        set { bits = newValue & ~1 | bits & 1 }
    }
    /// Listed in `IdleInterest` (once, however often it goes idle before a prune).
    var listedIdle: Bool {
        get { bits & 1 != 0 }
        set { bits = newValue ? bits | 1 : bits & ~1 }
    }
    private var subscribers: Int32
    var loop: Int { Int(loopIndex) }
    var count: Int {
        get { Int(subscribers) }
        set { subscribers = Int32(clamping: newValue) }
    }
    init(loop: Int, pattern: TopicPattern, count: Int) {
        self.pattern = pattern
        loopIndex = Int16(clamping: loop)
        subscribers = Int32(clamping: count)
    }
    static func == (a: InterestEntry, b: InterestEntry) -> Bool { a === b }
    func hash(into hasher: inout Hasher) { hasher.combine(ObjectIdentifier(self)) }
}

/// Subscriptions per permessage-deflate window size (9–15 bits), and the mask of those held.
struct DeflateWindowCounts {
    private var counts: [Int32] = []

    private(set) var mask: UInt16 = 0

    mutating func change(window: Int, by delta: Int) {
        guard (9...15).contains(window) else { return }
        if counts.isEmpty { counts = Array(repeating: 0, count: 16) }
        counts[window] += Int32(delta)
        if counts[window] > 0 { mask |= 1 << window } else { mask &= ~(1 << window) }
    }
}
