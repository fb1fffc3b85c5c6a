/// Comparison of secrets whose time does not depend on where they differ, so a client timing
/// its attempts cannot learn a signature or a token byte by byte.
public enum ConstantTime {
    /// True when `a` and `b` hold the same bytes. Every byte is examined whatever the
    /// contents; only the lengths (public here: digests are always 32 bytes) end it early.
    @inline(never)
    public static func equals(_ a: some Collection<UInt8>, _ b: some Collection<UInt8>) -> Bool {
        guard a.count == b.count else { return false }
        var difference: UInt8 = 0
        for (x, y) in zip(a, b) { difference |= x ^ y }
        return difference == 0
    }
}
