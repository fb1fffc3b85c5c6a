import HistoryStore
import Topics

/// One loop's side of the history store (`--data-dir`), touched by that loop only.
///
/// Every message the loop sequences as a topic's owner becomes a record in `batch`; at the
/// end of the turn the batch goes to the store's writer as one buffer (`submit`). In the
/// modes that wait (`write`, `fsync`) the sequenced messages are not delivered yet: they wait
/// in `waiting` until the writer posts `.persisted` back to the loop's inbox, then are retained,
/// fanned out and acked in order (`LoopHub.deliver`). Meanwhile the hub messages that would
/// observe the topics' state (publishes, interest, positions, replays) are held in arrival
/// order and handled after the commit, so everything the hub answers is what it has
/// delivered: one batch in flight per loop, and the publishes of the turns it took to write
/// share the next one (group commit).
///
/// Never a stalled publisher: if the writer takes longer than `stallNanos`, or the messages
/// held pass `LoopInbox.highWater` bytes, history degrades to memory and everything waiting
/// is delivered at once.
final class DurableHub {
    unowned let hub: LoopHub
    let store: DurableStore
    private let inbox: LoopInbox
    private let waits: Bool
    private var batch: [UInt8] = []
    private var records = 0
    /// Sequenced this turn, waiting for the batch to be handed over.
    private var pending: [Waiting] = []
    /// In the batch the writer has.
    private var inFlight: [Waiting] = []
    private var isWriting = false
    private var writingSince: UInt64 = 0
    private var token: UInt64 = 0
    private var held: [HubMessage] = []
    private var heldBytes = 0
    /// Wall-clock minus monotonic time, refreshed per batch: records carry wall-clock times
    /// without a clock read per message.
    private var wallOffset: UInt64
    static let stallNanos: UInt64 = 10_000_000_000

    private struct Waiting {
        let frame: OutboundBytes
        let state: TopicState
        let origin: PublishOrigin
    }

    init(hub: LoopHub, store: DurableStore, inbox: LoopInbox) {
        self.hub = hub
        self.store = store
        self.inbox = inbox
        waits = store.mode.waitsForWriter
        wallOffset = Sys.wallClockNanos() &- Sys.monotonicNanos()
    }

    /// Records a message just sequenced; true when its delivery waits for the writer.
    func record(_ frame: OutboundBytes, state: TopicState, kind: PayloadKind, payload: UnsafeRawBufferPointer, origin: PublishOrigin) -> Bool {
        guard !store.isDegraded, let stamp = frame.stamp else { return false }
        let (position, offset) = (stamp.position, stamp.offset)
        if batch.isEmpty { batchSince = hub.loop.now }
        let keeps = state.policy.messages > 0
        RecordCodec.encode(topic: state.topic, epoch: position.epoch, seq: position.seq, wallNanos: hub.loop.now &+ wallOffset,
                           offset: offset, kind: keeps ? (kind == .json ? .json : .binary) : .position,
                           payload: keeps ? payload : UnsafeRawBufferPointer(start: nil, count: 0), into: &batch)
        records += 1
        guard waits else { return false }
        pending.append(Waiting(frame: frame, state: state, origin: origin))
        return true
    }

    /// A topic state was created with a new epoch (`TopicTable.onCreate`): a position record
    /// keeps it, so a client that subscribed (and saw seq 0) resumes across a restart with
    /// nothing published meanwhile, and an epoch renewed for a gap (a backplane outage) is
    /// never rolled back by a restart.
    func created(_ state: TopicState) {
        guard !store.isDegraded else { return }
        if batch.isEmpty { batchSince = hub.loop.now }
        RecordCodec.encode(topic: state.topic, epoch: state.epoch, seq: state.seq, wallNanos: hub.loop.now &+ wallOffset,
                           offset: hub.ledger.published, kind: .position, payload: UnsafeRawBufferPointer(start: nil, count: 0), into: &batch)
        records += 1
    }

    /// Whether `message` must wait for the batch in flight (and is now held); see the type's doc.
    func holds(_ message: HubMessage) -> Bool {
        guard waits else { return false }
        let hold: Bool
        switch message {
        case .publish: hold = isWriting || !held.isEmpty
        // Everything that reads the owners' topics or offsets (a cursor's clock included).
        case .interest, .position, .replay, .patternReplay, .backplaneEpoch, .backplaneRegained:
            hold = isWriting || !pending.isEmpty || !held.isEmpty
        default: return false
        }
        guard hold else { return false }
        held.append(message)
        heldBytes += LoopCommand.hub(message).weight
        if heldBytes > LoopInbox.highWater { giveUpWaiting("publishes waiting for the disk passed \(LoopInbox.highWater >> 20) MiB") }
        return true
    }

    /// A publish of this loop's own must wait too (it is then sent to the loop's own hub).
    var holdsPublishes: Bool { waits && (isWriting || !held.isEmpty) }

    /// When the records in `batch` began to gather (monotonic ns).
    private var batchSince: UInt64 = 0
    /// Records no delivery waits for (`none` mode, positions) gather this long or this much
    /// before going to the writer: at 10,000 publishes a second one hand-off per loop turn
    /// cost about as much CPU as the publishes themselves.
    static let gatherNanos: UInt64 = 10_000_000
    static let gatherBytes = 64 << 10

    /// End of the loop's turn: the records go to the writer — at once when deliveries wait for
    /// them, else once they have gathered for `gatherNanos` or `gatherBytes` (or the loop is
    /// stopping: `final`). A loop that sleeps meanwhile writes them at its next turn (at most
    /// a timer tick later).
    func submit(final: Bool = false) {
        guard !batch.isEmpty, !isWriting else { return }
        if pending.isEmpty && !final && batch.count < Self.gatherBytes && hub.loop.now &- batchSince < Self.gatherNanos { return }
        store.countRecords(records)
        var records: [UInt8] = []
        swap(&records, &batch)
        self.records = 0
        wallOffset = Sys.wallClockNanos() &- Sys.monotonicNanos()
        guard waits && !pending.isEmpty else {
            store.submit(records, completion: nil)
            return
        }
        swap(&inFlight, &pending)
        isWriting = true
        writingSince = hub.loop.now
        token &+= 1
        store.submit(records, completion: (inbox, token))
    }

    /// The writer has the batch on disk (or gave up on it, degrading history).
    func persisted(_ token: UInt64) {
        guard isWriting, token == self.token else { return }
        isWriting = false
        commit()
        release()
    }

    /// Once per timing-wheel tick: a writer stuck longer than `stallNanos` is given up on.
    func tick(now: UInt64) {
        if isWriting && now &- writingSince > Self.stallNanos { giveUpWaiting("a write took more than \(Self.stallNanos / 1_000_000_000) s") }
    }

    private func giveUpWaiting(_ reason: String) {
        store.degrade(reason, errno: 0)
        guard isWriting else { return }
        isWriting = false
        token &+= 1  // the late completion is ignored
        commit()
        for waiting in pending { deliver(waiting) }
        pending.removeAll()
        release()
    }

    private func commit() {
        let done = inFlight
        inFlight = []
        for waiting in done { deliver(waiting) }
    }

    private func deliver(_ waiting: Waiting) {
        guard let stamp = waiting.frame.stamp else { return }
        // A state evicted (or renewed) meanwhile no longer takes history: its ledger links are gone.
        let current = hub.topics.peek(stamp.topic) === waiting.state
        waiting.frame.withUnsafeBytes { bytes in
            hub.deliver(waiting.frame, state: waiting.state, payload: UnsafeRawBufferPointer(rebasing: bytes[stamp.payload]),
                        origin: waiting.origin, retain: current)
        }
    }

    /// Handles the held messages in order; those that must wait again are held again.
    private func release() {
        guard !held.isEmpty else { return }
        var messages: [HubMessage] = []
        swap(&messages, &held)
        heldBytes = 0
        for message in messages { hub.receive(message) }
    }
}

extension LoopHub {
    /// Loop start-up with `--data-dir`: the recovered topics this loop owns get their epoch,
    /// seq and retained frames back (ages from the wall-clock times), within the loop's
    /// history budget, then records start flowing to the store.
    func restoreHistory(from store: DurableStore) {
        let recovered = store.takeRecovered()
        let now = loop.now
        let wallNow = Sys.wallClockNanos()
        // Offsets mean something across the restart only with the same loops: then cursors of
        // the last life stay valid and the publish order is rebuilt as it was; otherwise the
        // retained messages are numbered afresh (those cursors are foreign anyway).
        let sameLoops = store.state.recoveredLoopCount == loopCount
        var maxOffset: UInt64 = 0
        let mine = recovered.filter { owner(of: $0.topic) == index }
            .sorted { sameLoops ? max($0.lastOffset, $0.maxOffset) < max($1.lastOffset, $1.maxOffset) : $0.lastWallNanos < $1.lastWallNanos }
        for topic in mine {
            let (state, evicted) = topics.restore(topic.topic, epoch: topic.epoch, seq: topic.seq, policy: config.historyPolicy(for: topic.topic))
            if let evicted { ledger.forget(evicted) }
            for (frame, wall) in zip(topic.frames, topic.wallNanos) {
                let age = wallNow > wall ? wallNow - wall : 0
                ledger.retain(sameLoops ? frame : renumbered(frame), in: state, now: now > age ? now - age : 0)
            }
            if sameLoops && topic.continued {
                // What history no longer holds of it is lost to cursors from before.
                state.lastOffset = max(state.lastOffset, topic.lastOffset)
                let firstKept = topic.frames.first?.stamp
                if topic.seq > 0 && (firstKept?.position.seq ?? topic.seq + 1) > 1 {
                    state.history.noteLost(upTo: firstKept.map { $0.offset &- 1 } ?? topic.lastOffset)
                }
            }
            if state.lastOffset > 0 { topics.markPublished(state) }
            maxOffset = max(maxOffset, topic.lastOffset, topic.maxOffset)
        }
        if sameLoops { ledger.continueOffsets(after: maxOffset) }
        let durable = DurableHub(hub: self, store: store, inbox: loop.inbox)
        self.durable = durable
        topics.onCreate = { [unowned durable] state in durable.created(state) }
    }

    /// A restored frame with this loop's next offset.
    private func renumbered(_ frame: OutboundBytes) -> OutboundBytes {
        guard let stamp = frame.stamp else { return frame }
        return frame.withUnsafeBytes { bytes in
            RestoredTopic.frame(kind: stamp.kind, topic: stamp.topic, position: stamp.position,
                                payload: UnsafeRawBufferPointer(rebasing: bytes[stamp.payload]), offset: ledger.nextOffset())
        }
    }
}
