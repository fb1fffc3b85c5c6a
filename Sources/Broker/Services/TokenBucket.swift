/// A token bucket: `rate` tokens a second, holding at most `burst`. Used to bound how fast one
/// connection may publish or change its subscriptions. Time is passed in (loop time), so the
/// bucket is a pure value, tested without clocks.
struct TokenBucket {
    /// Stored as `Float` (exact for whole rates up to 2^24 a second): every `/bus` connection
    /// holds two buckets, 24 bytes each this way rather than 32.
    private let storedRate: Float
    private let storedBurst: Float
    private var tokens: Double
    private var updated: UInt64

    var rate: Double { Double(storedRate) }
    var burst: Double { Double(storedBurst) }

    /// `rate` 0 means unlimited.
    init(rate: Double, burst: Double, now: UInt64) {
        storedRate = Float(rate)
        storedBurst = Float(max(1, burst))
        tokens = Double(storedBurst)
        updated = now
    }

    var isUnlimited: Bool { rate <= 0 }

    /// Takes one token if there is one.
    mutating func take(now: UInt64) -> Bool {
        guard rate > 0 else { return true }
        if now > updated {
            tokens = min(burst, tokens + Double(now - updated) * rate / 1e9)
            updated = now
        }
        guard tokens >= 1 else { return false }
        tokens -= 1
        return true
    }
}
