import Auth
import Testing

/// Token expiry → monotonic deadline, for every numeric shape a signed `exp` can take
/// (issue 13: an `exp` in milliseconds trapped converting to nanoseconds and killed the server).
struct ExpiryDeadlineTests {
    static let wall = 1_800_000_000.0
    static let mono: UInt64 = 5_000_000_000_000

    @Test(arguments: [
        (1_800_000_010.0, mono + 10_000_000_000),            // 10 s ahead
        (1_800_000_000.5, mono + 500_000_000),               // a fraction
        (1_800_000_000.0, mono),                             // now: expires now
        (1_799_999_000.0, mono),                             // past
        (-1e308, mono), (-0.0, mono), (0.0, mono),            // far past, both zeros
        (1.8e12, .max),                                      // milliseconds by mistake
        (1.8e19, .max), (18_446_744_073_709_551_616.0, .max), (1e300, .max),
        (Double.greatestFiniteMagnitude, .max), (Double.infinity, .max),
        (Double.nan, mono), (-Double.infinity, mono),        // NaN fails closed
    ] as [(Double, UInt64)])
    func deadlineSaturatesAndNeverTraps(expiresAt: Double, deadline: UInt64) {
        #expect(ExpiryDeadline.monotonicNanos(expiresAt: expiresAt, wallNow: Self.wall, monotonicNow: Self.mono) == deadline)
    }

    /// The addition saturates too: a monotonic clock near its end with a long-lived token.
    @Test func additionSaturates() {
        #expect(ExpiryDeadline.monotonicNanos(expiresAt: Self.wall + 1_000, wallNow: Self.wall, monotonicNow: .max - 5) == .max)
        #expect(ExpiryDeadline.monotonicNanos(expiresAt: Self.wall + 1, wallNow: Self.wall, monotonicNow: .max - 1_000_000_000) == .max)
        #expect(ExpiryDeadline.monotonicNanos(expiresAt: Self.wall + 1, wallNow: Self.wall, monotonicNow: .max - 1_000_000_001) == UInt64.max - 1)
    }

    /// A broken wall clock fails closed as well.
    @Test(arguments: [Double.nan, Double.infinity])
    func nonFiniteWallClockExpiresNow(wall: Double) {
        #expect(ExpiryDeadline.monotonicNanos(expiresAt: Double.infinity, wallNow: wall, monotonicNow: 7) == 7)
    }

    @Test(arguments: [
        (0.0, 0 as UInt64), (-1.0, 0), (-0.0, 0), (Double.nan, 0), (-Double.infinity, 0),
        (1e-10, 0), (1e-9, 1), (1.5, 1_500_000_000), (86_400, 86_400_000_000_000),
        (18_446_744_073.709_55, 18_446_744_073_709_549_568), (18_446_744_073.709_553, .max),
        (1e300, .max), (Double.infinity, .max), (Double.greatestFiniteMagnitude, .max),
    ] as [(Double, UInt64)])
    func nanosecondsSaturate(seconds: Double, nanos: UInt64) {
        #expect(ExpiryDeadline.nanoseconds(seconds) == nanos)
    }

    /// Every power of ten and its negative, with fractions: never a trap, always monotone.
    @Test func everyMagnitudeIsMonotone() {
        var previous: UInt64 = 0
        for exponent in -20...308 {
            for mantissa in [1.0, 1.5, 9.99] {
                let seconds = mantissa * pow10(exponent)
                let nanos = ExpiryDeadline.nanoseconds(seconds)
                #expect(nanos >= previous, "\(seconds)")
                previous = max(previous, nanos)
                #expect(ExpiryDeadline.nanoseconds(-seconds) == 0)
                _ = ExpiryDeadline.monotonicNanos(expiresAt: seconds, wallNow: Self.wall, monotonicNow: Self.mono)
                _ = ExpiryDeadline.monotonicNanos(expiresAt: -seconds, wallNow: Self.wall, monotonicNow: Self.mono)
            }
        }
    }

    func pow10(_ exponent: Int) -> Double {
        var value = 1.0
        for _ in 0..<abs(exponent) { value = exponent < 0 ? value / 10 : value * 10 }
        return value
    }
}
