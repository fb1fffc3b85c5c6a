/// A fixed-bucket histogram of whole numbers (nanoseconds, queue lengths), as Prometheus
/// exposes them: each bucket counts observations at most its upper bound, plus the implicit
/// `+Inf` bucket. Owned by one loop and never locked; a scrape copies it.
struct Histogram: Sendable {
    /// Upper bounds, ascending. Shared by every copy.
    let bounds: [UInt64]
    /// Observations per bucket (not cumulative), `bounds.count + 1` of them; the last is `+Inf`.
    private(set) var counts: [UInt64]
    /// Sum of every observed value (wraps after 584 years of nanoseconds).
    private(set) var sum: UInt64 = 0

    init(bounds: [UInt64]) {
        self.bounds = bounds
        counts = Array(repeating: 0, count: bounds.count + 1)
    }

    var count: UInt64 { counts.reduce(0, &+) }

    /// A linear scan: the bucket lists are short and most values land in the first few.
    mutating func observe(_ value: UInt64) {
        var index = 0
        while index < bounds.count && value > bounds[index] { index += 1 }
        counts[index] &+= 1
        sum &+= value
    }

    /// Adds another loop's counts (same bounds) into this one.
    mutating func merge(_ other: Histogram) {
        precondition(bounds == other.bounds, "merging histograms with different buckets")
        for index in counts.indices { counts[index] &+= other.counts[index] }
        sum &+= other.sum
    }

    /// From 25 µs to 10 s: a publish crossing loops and a writev take microseconds; anything
    /// near a second means a backed-up subscriber or a stalled loop.
    static let latencyBounds: [UInt64] = [
        25_000, 50_000, 100_000, 250_000, 500_000,
        1_000_000, 2_500_000, 5_000_000, 10_000_000, 25_000_000, 50_000_000, 100_000_000, 250_000_000, 500_000_000,
        1_000_000_000, 2_500_000_000, 5_000_000_000, 10_000_000_000,
    ]

    /// From 10 µs to 1 s: one turn of a loop (epoll batch, timers, flushes).
    static let loopTurnBounds: [UInt64] = [
        10_000, 25_000, 50_000, 100_000, 250_000, 500_000,
        1_000_000, 2_500_000, 5_000_000, 10_000_000, 25_000_000, 50_000_000, 100_000_000, 250_000_000, 1_000_000_000,
    ]

    /// Messages queued for a connection when it is flushed: 1 is the common case, the default
    /// bound (`send-queue-messages`) is 256.
    static let queueDepthBounds: [UInt64] = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 4096, 16384]
}
