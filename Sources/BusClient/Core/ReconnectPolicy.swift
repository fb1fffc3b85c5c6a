/// How long to wait before the next connection attempt (pure: the random numbers and the
/// clock come in). Thousands of clients dropped by one restart must not come back at once:
///
/// - a dropped link (1001 going away, 1006 abnormal, a socket error) waits a uniformly random
///   time in a window that starts at `firstWindow` seconds and doubles per failed attempt up
///   to `cap` ("full jitter");
/// - a slow-consumer drop (4008) resumes at once, but a 4008 again within `stablePeriod` of
///   the last one backs off like a drop;
/// - an overloaded server (503, 429, close 1013) waits longer, at least its `Retry-After`;
/// - attempts count down to zero only after the link stayed up for `stablePeriod`.
struct ReconnectPolicy: Sendable {
    var firstWindow = 2.0
    var cap = 30.0
    var overloadedFloor = 5.0
    var stablePeriod = 10.0

    private(set) var attempt = 0
    private var connectedAt: Double?
    private var lastSlowConsumerDrop: Double?

    enum Cause: Sendable, Equatable {
        case dropped
        case slowConsumer
        case overloaded(retryAfter: Double?)
    }

    /// The link is up at `now` (seconds on any monotonic clock).
    mutating func connected(at now: Double) { connectedAt = now }

    /// The link went (or an attempt failed) at `now` for `cause`: the wait before the next
    /// attempt. `random` gives uniform numbers in [0, 1).
    mutating func delay(after cause: Cause, at now: Double, random: () -> Double) -> Double {
        if let since = connectedAt, now - since >= stablePeriod { attempt = 0 }
        connectedAt = nil
        defer { attempt += 1 }
        let window = min(cap, firstWindow * Double(1 << min(attempt, 20)))
        switch cause {
        case .slowConsumer:
            let repeated = lastSlowConsumerDrop.map { now - $0 < stablePeriod } ?? false
            lastSlowConsumerDrop = now
            return repeated ? random() * window : 0
        case .dropped:
            return random() * window
        case .overloaded(let retryAfter):
            let wait = overloadedFloor + random() * max(window, overloadedFloor)
            return max(min(wait, cap * 2), retryAfter ?? 0)
        }
    }
}
