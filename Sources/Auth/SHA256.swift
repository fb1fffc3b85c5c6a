/// SHA-256 (FIPS 180-4 §6.2), for HMAC-SHA256 (JWT HS256) and for hashing static tokens.
///
/// Our own, like Frames' SHA-1: the package has no dependencies, and Foundation has no
/// SHA-2 on Linux. Streaming (`update` any number of times, then `finalize`), so a large
/// input is never copied; tested with the FIPS 180-4 example vectors, the million-`a`
/// message and inputs around every block boundary.
public struct SHA256 {
    public static let digestSize = 32
    /// Block size in bytes; HMAC pads its key to this (RFC 2104 §2).
    public static let blockSize = 64

    private var h: [UInt32] = [0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19]
    /// The current partial block and how much of it is filled.
    private var block = [UInt8](repeating: 0, count: blockSize)
    private var filled = 0
    /// Message length so far, for the padding's length field.
    private var length: UInt64 = 0

    /// FIPS 180-4 §4.2.2: the first 32 bits of the fractional parts of the cube roots of the
    /// first 64 primes.
    private static let k: [UInt32] = [
        0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
        0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
        0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
        0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
        0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
        0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
        0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
        0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
    ]

    public init() {}

    /// The digest of `bytes` in one call.
    public static func hash(_ bytes: some Sequence<UInt8>) -> [UInt8] {
        var hasher = SHA256()
        hasher.update(bytes)
        return hasher.finalize()
    }

    public mutating func update(_ bytes: some Sequence<UInt8>) {
        let done: Void? = bytes.withContiguousStorageIfAvailable { update(UnsafeRawBufferPointer($0)) }
        if done == nil { Array(bytes).withUnsafeBytes { update($0) } }
    }

    /// Whole blocks are compressed straight from the input; only a partial block is copied.
    public mutating func update(_ input: UnsafeRawBufferPointer) {
        var offset = 0
        length &+= UInt64(input.count)
        if filled > 0 {
            let take = min(Self.blockSize - filled, input.count)
            for i in 0..<take { block[filled + i] = input[i] }
            filled += take
            offset = take
            guard filled == Self.blockSize else { return }
            let full = block  // a local reference: compress mutates self while reading it
            full.withUnsafeBytes { compress($0) }
            filled = 0
        }
        while input.count - offset >= Self.blockSize {
            compress(UnsafeRawBufferPointer(rebasing: input[offset ..< offset + Self.blockSize]))
            offset += Self.blockSize
        }
        for i in offset ..< input.count { block[i - offset] = input[i] }
        filled = input.count - offset
    }

    /// Pads (FIPS 180-4 §5.1.1: a 1 bit, zeros, the 64-bit bit length) and returns the
    /// 32-byte digest. The hasher is spent afterwards.
    public mutating func finalize() -> [UInt8] {
        let bitLength = length &* 8
        let zeros = (Self.blockSize + 56 - (filled + 1) % Self.blockSize) % Self.blockSize
        var tail: [UInt8] = [0x80] + [UInt8](repeating: 0, count: zeros)
        for shift in stride(from: 56, through: 0, by: -8) { tail.append(UInt8(truncatingIfNeeded: bitLength >> UInt64(shift))) }
        update(tail)
        var digest: [UInt8] = []
        digest.reserveCapacity(Self.digestSize)
        for word in h {
            digest += [UInt8(word >> 24), UInt8(truncatingIfNeeded: word >> 16), UInt8(truncatingIfNeeded: word >> 8),
                       UInt8(truncatingIfNeeded: word)]
        }
        return digest
    }

    /// FIPS 180-4 §6.2.2 on one 64-byte block. The message schedule lives on the stack.
    private mutating func compress(_ chunk: UnsafeRawBufferPointer) {
        var state = (h[0], h[1], h[2], h[3], h[4], h[5], h[6], h[7])
        Self.compress(chunk, &state)
        h[0] = state.0; h[1] = state.1; h[2] = state.2; h[3] = state.3
        h[4] = state.4; h[5] = state.5; h[6] = state.6; h[7] = state.7
    }

    private static func compress(_ chunk: UnsafeRawBufferPointer,
                                 _ state: inout (UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32)) {
        withUnsafeTemporaryAllocation(of: UInt32.self, capacity: 64) { w in
            for t in 0..<16 {
                w[t] = UInt32(bigEndian: chunk.loadUnaligned(fromByteOffset: 4 * t, as: UInt32.self))
            }
            for t in 16..<64 {
                let w15 = w[t - 15], w2 = w[t - 2]
                let s0 = rotr(w15, 7) ^ rotr(w15, 18) ^ (w15 >> 3)
                let s1 = rotr(w2, 17) ^ rotr(w2, 19) ^ (w2 >> 10)
                w[t] = w[t - 16] &+ s0 &+ w[t - 7] &+ s1
            }
            var (a, b, c, d, e, f, g, hh) = state
            for t in 0..<64 {
                let s1 = rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25)
                let choice = (e & f) ^ (~e & g)
                let t1 = hh &+ s1 &+ choice &+ k[t] &+ w[t]
                let s0 = rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22)
                let majority = (a & b) ^ (a & c) ^ (b & c)
                let t2 = s0 &+ majority
                hh = g; g = f; f = e; e = d &+ t1
                d = c; c = b; b = a; a = t1 &+ t2
            }
            state.0 &+= a; state.1 &+= b; state.2 &+= c; state.3 &+= d
            state.4 &+= e; state.5 &+= f; state.6 &+= g; state.7 &+= hh
        }
    }

    @inline(__always)
    private static func rotr(_ x: UInt32, _ n: UInt32) -> UInt32 { x >> n | x << (32 - n) }
}
