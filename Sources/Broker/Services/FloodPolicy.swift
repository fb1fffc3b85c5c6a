/// What happens to a connection whose requests are refused (over its rate, malformed, not
/// allowed): each is answered with an error, so a client that merely bursts or errs learns
/// which requests were dropped; one that keeps sending regardless is closed with 1008.
///
/// A flood is a run of refusals with less than `quietPeriod` between them; it ends when the
/// client stays within its rate for that long. Pure: time is passed in.
struct FloodPolicy {
    /// Refusals in one flood before the connection is closed.
    static let tolerance = 100
    static let quietPeriod: UInt64 = 1_000_000_000

    private(set) var refusals = 0
    private var lastRefusal: UInt64 = 0

    enum Verdict: Equatable {
        /// Answer the request with a `rate_limited` error.
        case refuse
        /// Close the connection with 1008.
        case close
    }

    mutating func refused(now: UInt64) -> Verdict {
        if refusals > 0 && now &- lastRefusal >= Self.quietPeriod { refusals = 0 }
        refusals += 1
        lastRefusal = now
        return refusals > Self.tolerance ? .close : .refuse
    }
}
