/// Turns a credential's expiry (unix seconds, from a token the client chose) into a deadline on
/// the monotonic clock, and any number of seconds into nanoseconds, without ever trapping.
///
/// A validly signed `exp` can be any finite JSON number: milliseconds by mistake
/// (1.7e12 s, i.e. 1.7e21 ns, past `UInt64`), 1e300, a fraction, a negative. `UInt64(Double)`
/// traps on anything out of range and `+` on overflow, so one such token killed the process
/// (issue 13). Here every result saturates at `UInt64.max` ("never"), and NaN fails closed
/// (expired now).
public enum ExpiryDeadline {
    /// 2^64 as a Double: the first value `UInt64(_: Double)` cannot hold.
    static let twoToThe64 = 18_446_744_073_709_551_616.0

    /// Nanoseconds in `seconds`, rounded down: 0 for zero, negative or NaN; `UInt64.max` for
    /// anything at or past 2^64 ns (584 years) and for +infinity.
    public static func nanoseconds(_ seconds: Double) -> UInt64 {
        let nanos = seconds * 1_000_000_000
        guard nanos > 0 else { return 0 }  // also NaN
        guard nanos < twoToThe64 else { return .max }
        return UInt64(nanos)
    }

    /// The monotonic time (nanoseconds) at which a credential valid until `expiresAt` (unix
    /// seconds) expires, given the wall clock `wallNow` (unix seconds) and the monotonic clock
    /// `monotonicNow` read at the same moment. Already past, or not a number: `monotonicNow`.
    /// Too far ahead to represent: `UInt64.max`, which never comes.
    public static func monotonicNanos(expiresAt: Double, wallNow: Double, monotonicNow: UInt64) -> UInt64 {
        let remaining = expiresAt - wallNow
        guard remaining > 0 else { return monotonicNow }  // past, or NaN (e.g. inf - inf)
        let (deadline, overflow) = monotonicNow.addingReportingOverflow(nanoseconds(remaining))
        return overflow ? .max : deadline
    }
}
