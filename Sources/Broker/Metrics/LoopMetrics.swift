/// One loop's counters and histograms. Plain integers, written by the owning loop only (no
/// atomics, no locks on the data path); a `/metrics` request asks every loop, through its
/// inbox, for a copy (`LoopSnapshot`) and adds them up.
struct LoopMetrics: Sendable {
    /// Turns of the loop (one `epoll_wait` each) and the time each turn's work took.
    var iterations: UInt64 = 0
    var turnNanos = Histogram(bounds: Histogram.loopTurnBounds)

    var connectionsAccepted: UInt64 = 0
    /// Refused with 503 at the connection limit.
    var connectionsRefused: UInt64 = 0

    /// Messages this loop sequenced as their topic's owner, and their payload bytes.
    var published = ByKind()
    var publishedBytes = ByKind()
    /// Messages queued to this loop's subscribers, and their bytes on the wire (frames).
    var delivered = ByKind()
    var deliveredBytes = ByKind()

    /// permessage-deflate: encodings made (one per message per window size), messages left
    /// uncompressed after trying (not smaller, or an excluded topic), time spent in deflate,
    /// and bytes the compressed frames saved on the wire, counted per delivery.
    var compressedMessages: UInt64 = 0
    var compressionSkipped: UInt64 = 0
    var compressionNanos: UInt64 = 0
    var compressionSavedBytes: UInt64 = 0

    var slowConsumerDrops: UInt64 = 0
    /// Server-Sent Events streams started (GET /sse answered 200).
    var eventStreamsOpened: UInt64 = 0
    /// Times the server stopped reading a connection whose send queue was half full.
    var backlogPauses: UInt64 = 0
    /// Connections closed for sending too many requests that were refused in a row.
    var floodCloses: UInt64 = 0
    /// Requests refused for going over a connection's publish or subscribe rate.
    var rateLimited: UInt64 = 0
    /// Requests refused with 401 for a missing, invalid or expired token.
    var authFailures: UInt64 = 0
    /// Subscribes and publishes refused because the token does not cover the topic.
    var permissionDenied: UInt64 = 0

    /// Messages queued when a connection is flushed.
    var queueDepth = Histogram(bounds: Histogram.queueDepthBounds)
    /// From a publish's arrival (the loop turn that read it) to its bytes written to a
    /// subscriber's socket: one observation per write batch, for the message at its head.
    var deliveryNanos = Histogram(bounds: Histogram.latencyBounds)
}

/// A counter per payload kind.
struct ByKind: Sendable {
    var json: UInt64 = 0
    var binary: UInt64 = 0

    subscript(kind: PayloadKind) -> UInt64 {
        get { kind == .json ? json : binary }
        set { if kind == .json { json = newValue } else { binary = newValue } }
    }

    static func + (a: ByKind, b: ByKind) -> ByKind { ByKind(json: a.json &+ b.json, binary: a.binary &+ b.binary) }
}

/// What one loop reports to a scrape: its metrics and its gauges, read on its own thread.
struct LoopSnapshot: Sendable {
    let loop: Int
    let metrics: LoopMetrics
    let connections: Int
    let subscriptions: Int
    let topics: Int
    /// Bytes held in send queues and in partly received messages (the memory budgets).
    let queuedBytes: Int
    let reassemblyBytes: Int
    /// Slow consumers dropped whose notice and close frame are still on their way.
    var slowConsumersClosing = 0
    /// Open Server-Sent Events streams (also counted in `connections`).
    var eventStreams = 0
    /// What this loop's topics retain: messages, and their bytes (frames and the other
    /// encodings kept with them), within its share of `--history-bytes`.
    var historyMessages = 0
    var historyBytes = 0
}
