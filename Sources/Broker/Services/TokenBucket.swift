/// A token bucket: `rate` tokens a second, holding at most `burst`. Used to bound how fast one
/// connection may publish or change its subscriptions. Time is passed in (loop time), so the
/// bucket is a pure value, tested without clocks.
struct TokenBucket {
    let rate: Double
    let burst: Double
    private var tokens: Double
    private var updated: UInt64

    /// `rate` 0 means unlimited.
    init(rate: Double, burst: Double, now: UInt64) {
        self.rate = rate
        self.burst = max(1, burst)
        tokens = self.burst
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
