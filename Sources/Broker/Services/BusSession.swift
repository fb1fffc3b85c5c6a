import Topics

/// A `/bus` connection's subscriptions. Hashable by identity so the loop's trie can hold it.
final class BusSession: Hashable {
    unowned let connection: Connection
    /// The exact patterns held; subscribing twice to one is idempotent.
    var patterns: Set<TopicPattern> = []
    /// Topics being resumed: live messages at or below the floor are already in (or still to
    /// come from) the replay and are skipped; UInt64.max while the replay is in progress.
    /// nil for a session resuming nothing, so a delivery costs one nil check.
    var liveFloors: [TopicName: UInt64]?
    /// The replay waiting for this connection's queue to drain before its next page.
    var pendingReplay: UInt64?
    /// Set on the first publish: backpressure between loops pauses publishers only.
    var hasPublished = false
    /// How fast this connection may publish, and change its subscriptions.
    var publishes: TokenBucket
    var subscriptionChanges: TokenBucket
    /// Requests refused for rate in the current flood; see `FloodPolicy`.
    var flood = FloodPolicy()

    init(connection: Connection, config: ServerConfig, now: UInt64) {
        self.connection = connection
        publishes = TokenBucket(rate: config.publishRate, burst: config.publishBurst, now: now)
        subscriptionChanges = TokenBucket(rate: config.subscribeRate, burst: config.subscribeBurst, now: now)
    }

    /// Whether a live message of `topic` goes to this session; the first one above the
    /// floor ends the filtering (the owner's messages arrive in order).
    func acceptsLive(_ frame: OutboundBytes, topic: TopicName) -> Bool {
        guard let floor = liveFloors?[topic] else { return true }
        guard let seq = frame.stamp?.position.seq, seq > floor else { return false }
        liveFloors![topic] = nil
        if liveFloors!.isEmpty { liveFloors = nil }
        return true
    }

    func setFloor(_ floor: UInt64, for topic: TopicName) {
        if liveFloors == nil { liveFloors = [:] }
        liveFloors![topic] = floor
    }

    static func == (a: BusSession, b: BusSession) -> Bool { a === b }
    func hash(into hasher: inout Hasher) { hasher.combine(ObjectIdentifier(self)) }
}
