import Topics

/// What the hub delivers to: one connection's subscriptions, whatever it speaks (the `/bus`
/// WebSocket session, compressed or not; a Server-Sent Events stream subclasses it and
/// overrides `deliver`). Hashable by identity so the loop's trie can hold it.
class Subscriber: Hashable {
    unowned let connection: Connection
    /// The exact patterns held; subscribing twice to one is idempotent.
    final var patterns = SmallSet<TopicPattern>()
    /// Topics being resumed: live messages at or below the floor are already in (or still to
    /// come from) the replay and are skipped; UInt64.max while the replay is in progress.
    /// nil for a subscriber resuming nothing, so a delivery costs one nil check.
    final var liveFloors: [TopicName: UInt64]?
    /// Replays of this connection waiting for their turn to ask for a page, and the one whose
    /// page is out (asked for, or queued and not yet written): one page per connection at a
    /// time (see `LoopHub.askForPage`).
    final var pendingReplays: [UInt64] = []
    /// The replay token whose page is out; 0 for none (tokens start at 1).
    final var pageToken: UInt64 = 0
    final var pageOwner: UInt64? {
        get { pageToken == 0 ? nil : pageToken }
        set { pageToken = newValue ?? 0 }
    }
    /// Subscriptions followed by cursor (Protocol.md "Resuming a pattern"); nil when none,
    /// so a delivery to everyone else costs one nil check.
    final var cursors: [CursorSubscription]?
    /// Listed for a checkpoint at the end of this turn.
    final var checkpointQueued = false

    init(connection: Connection) { self.connection = connection }

    /// Whether a subscribe may be acked while the subscriber's request is still being handled
    /// (`LoopHub.subscribe`, when nothing is in flight); else it is acked at the end of the turn.
    var takesAckDuringRequest: Bool { true }

    /// The permessage-deflate window its connection negotiated, 0 for none: its messages'
    /// owners compress them for it once, at publish. An event stream's connection has none.
    final var deflateWindow: Int { Int(connection.webSocket.deflateWindowBits) }

    /// Queues one message (the canonical WebSocket frame, shared by every subscriber);
    /// false when it was not queued (the connection is closing, or was dropped as slow).
    /// A kind that needs another encoding (`EventStream`) overrides it, taking
    /// `frame.encoding(_:_:)`; a `/bus` session does not (`BusSession` is final): its
    /// compressed frame, when it negotiated permessage-deflate, is picked by
    /// `Connection.deliver` from the connection's window (`wireEncoding(of:)`).
    func deliver(_ frame: OutboundBytes) -> Bool { connection.deliver(frame) }

    /// Whether a live message of `topic` goes to this subscriber; the first one above the
    /// floor ends the filtering (the owner's messages arrive in order).
    final func acceptsLive(_ frame: OutboundBytes, topic: TopicName) -> Bool {
        guard let floor = liveFloors?[topic] else { return true }
        guard let seq = frame.stamp?.position.seq, seq > floor else { return false }
        liveFloors![topic] = nil
        if liveFloors!.isEmpty { liveFloors = nil }
        return true
    }

    final func setFloor(_ floor: UInt64, for topic: TopicName) {
        if liveFloors == nil { liveFloors = [:] }
        liveFloors![topic] = floor
    }

    final func cursorSubscription(for pattern: TopicPattern) -> CursorSubscription? {
        cursors?.first { $0.pattern == pattern }
    }

    final func removeCursorSubscription(for pattern: TopicPattern) {
        cursors?.removeAll { $0.pattern == pattern }
        if cursors?.isEmpty == true { cursors = nil }
    }

    /// A cursor subscription's ack: its cursor, and for a resume whether history held
    /// everything asked for and which topics it did not (`lost`).
    func acknowledgeCursor(requestID: [UInt8]?, pattern: TopicPattern, cursor: String, recovered: Bool?, lost: [LostTopic]) {}

    /// Every message of `pattern` up to `cursor` has been queued before this.
    func checkpoint(pattern: TopicPattern, cursor: String) {}

    static func == (a: Subscriber, b: Subscriber) -> Bool { a === b }
    func hash(into hasher: inout Hasher) { hasher.combine(ObjectIdentifier(self)) }
}
