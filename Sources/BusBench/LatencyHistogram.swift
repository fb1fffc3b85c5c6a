/// Latencies in nanoseconds, log-linear buckets (HdrHistogram's idea): 32 sub-buckets per
/// power of two, so any reported percentile is within about 3 % of the true value, at a fixed
/// 16 KiB whatever the count. The exact maximum is kept apart.
struct LatencyHistogram {
    private static let subBits = 5
    private static let subCount = 1 << subBits
    private var counts = [UInt64](repeating: 0, count: 64 * subCount)
    private(set) var count: UInt64 = 0
    private(set) var max: UInt64 = 0
    private(set) var sum: UInt64 = 0

    @inline(__always)
    static func bucket(_ value: UInt64) -> Int {
        if value < UInt64(subCount) { return Int(value) }
        let exponent = 63 - value.leadingZeroBitCount  // ≥ subBits
        let sub = Int(value >> UInt64(exponent - subBits)) & (subCount - 1)
        return (exponent - subBits + 1) * subCount + sub
    }

    /// The largest value that falls in `bucket`.
    static func upperBound(_ bucket: Int) -> UInt64 {
        if bucket < subCount { return UInt64(bucket) }
        let exponent = bucket / subCount + subBits - 1
        let sub = UInt64(bucket % subCount)
        let width = UInt64(1) << UInt64(exponent - subBits)
        return ((UInt64(subCount) + sub) << UInt64(exponent - subBits)) + (width - 1)  // no overflow at the top
    }

    @inline(__always)
    mutating func record(_ value: UInt64) {
        counts[Self.bucket(value)] &+= 1
        count &+= 1
        sum &+= value
        if value > max { max = value }
    }

    mutating func merge(_ other: LatencyHistogram) {
        for index in counts.indices { counts[index] &+= other.counts[index] }
        count &+= other.count
        sum &+= other.sum
        if other.max > max { max = other.max }
    }

    /// The value at quantile `q` (0...1): the bucket's upper bound, never above the maximum.
    func quantile(_ q: Double) -> UInt64 {
        guard count > 0 else { return 0 }
        let rank = Swift.max(1, UInt64((Double(count) * q).rounded(.up)))
        var seen: UInt64 = 0
        for (index, n) in counts.enumerated() where n > 0 {
            seen += n
            if seen >= rank { return Swift.min(Self.upperBound(index), max) }
        }
        return max
    }
}
