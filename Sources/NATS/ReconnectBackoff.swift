/// Delays between reconnect attempts: doubling from `base` up to `cap`, each scaled by a random
/// factor in [0.5, 1) so that many nodes losing the same NATS server do not all come back in
/// the same instant. Randomness is injected so tests see exact delays.
public struct ReconnectBackoff: Sendable {
    public let base: UInt64
    public let cap: UInt64
    private var attempt = 0
    private let random: @Sendable () -> Double

    /// - Parameter random: a value in [0, 1) per call.
    public init(baseNanos: UInt64 = 100_000_000, capNanos: UInt64 = 2_000_000_000,
                random: @escaping @Sendable () -> Double = { Double.random(in: 0..<1) }) {
        base = baseNanos
        cap = capNanos
        self.random = random
    }

    /// The delay before the next attempt; each call without `reset` doubles the ceiling.
    public mutating func nextDelay() -> UInt64 {
        let ceiling = attempt >= 40 ? cap : min(cap, base << UInt64(attempt))
        attempt += 1
        let factor = 0.5 + 0.5 * min(max(random(), 0), 1)
        return UInt64(Double(ceiling) * factor)
    }

    /// A connection succeeded: the next outage starts from `base` again.
    public mutating func reset() { attempt = 0 }
}
