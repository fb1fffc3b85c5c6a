/// SHA-1 (FIPS 180-4 §6.1, RFC 3174), one-shot.
///
/// We ship our own because `bus` has no dependencies: the stdlib has no hashing, Foundation's
/// `CryptoKit` is not on Linux, and linking OpenSSL for one handshake header is not worth it.
/// The only caller is the RFC 6455 §4.2.2 `Sec-WebSocket-Accept` value, which proves that the
/// server read the handshake, not that anything is secret: SHA-1's broken collision resistance
/// does not matter there. Do not use this for anything security-related.
public enum SHA1 {
    /// Length of a digest in bytes (160 bits).
    public static let digestLength = 20

    /// The 20-byte SHA-1 digest of `bytes`.
    ///
    /// Allocation-free but for the result: it runs once per WebSocket handshake, and a
    /// connection storm is thousands of handshakes a second. The block and the message
    /// schedule live on the stack.
    public static func hash(_ bytes: UnsafeRawBufferPointer) -> [UInt8] {
        var state = State()
        withUnsafeTemporaryAllocation(of: UInt32.self, capacity: 80) { schedule in
            var offset = 0
            while bytes.count - offset >= 64 {
                state.compress(UnsafeRawBufferPointer(rebasing: bytes[offset..<(offset + 64)]), schedule)
                offset += 64
            }
            // Padding (FIPS 180-4 §5.1.1): 0x80, zeros, then the bit length as a 64-bit
            // big-endian integer, filling one block, or two when fewer than 9 bytes remain.
            withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 128) { tail in
                let rest = bytes.count - offset
                let tailCount = rest < 56 ? 64 : 128
                tail.initialize(repeating: 0)
                for i in 0..<rest { tail[i] = bytes[offset + i] }
                tail[rest] = 0x80
                let bitLength = UInt64(bytes.count) &* 8
                for i in 0..<8 {
                    tail[tailCount - 1 - i] = UInt8(truncatingIfNeeded: bitLength >> (8 * UInt64(i)))
                }
                let padded = UnsafeRawBufferPointer(tail)
                state.compress(UnsafeRawBufferPointer(rebasing: padded[0..<64]), schedule)
                if tailCount == 128 { state.compress(UnsafeRawBufferPointer(rebasing: padded[64..<128]), schedule) }
            }
        }
        return state.digest
    }

    /// The 20-byte SHA-1 digest of `bytes`.
    public static func hash(_ bytes: [UInt8]) -> [UInt8] {
        bytes.withUnsafeBytes { hash($0) }
    }

    /// The five chaining words H0...H4 (FIPS 180-4 §5.3.1) and the block function.
    private struct State {
        var h: (UInt32, UInt32, UInt32, UInt32, UInt32) =
            (0x6745_2301, 0xEFCD_AB89, 0x98BA_DCFE, 0x1032_5476, 0xC3D2_E1F0)

        /// Processes one 64-byte block (FIPS 180-4 §6.1.2); `w` is room for the 80-word
        /// message schedule.
        mutating func compress(_ block: UnsafeRawBufferPointer, _ w: UnsafeMutableBufferPointer<UInt32>) {
            for t in 0..<16 {
                w[t] = UInt32(block[4 * t]) << 24 | UInt32(block[4 * t + 1]) << 16
                    | UInt32(block[4 * t + 2]) << 8 | UInt32(block[4 * t + 3])
            }
            for t in 16..<80 {
                w[t] = rotl(w[t - 3] ^ w[t - 8] ^ w[t - 14] ^ w[t - 16], 1)
            }
            var (a, b, c, d, e) = h
            // The four rounds of 20 steps, each with its function and constant (§4.1.1, §4.2.1).
            func step(_ f: UInt32, _ k: UInt32, _ t: Int) {
                let temp = rotl(a, 5) &+ f &+ e &+ k &+ w[t]
                e = d
                d = c
                c = rotl(b, 30)
                b = a
                a = temp
            }
            for t in 0..<20 { step((b & c) | (~b & d), 0x5A82_7999, t) }
            for t in 20..<40 { step(b ^ c ^ d, 0x6ED9_EBA1, t) }
            for t in 40..<60 { step((b & c) | (b & d) | (c & d), 0x8F1B_BCDC, t) }
            for t in 60..<80 { step(b ^ c ^ d, 0xCA62_C1D6, t) }
            h = (h.0 &+ a, h.1 &+ b, h.2 &+ c, h.3 &+ d, h.4 &+ e)
        }

        /// H0...H4 as 20 big-endian bytes.
        var digest: [UInt8] {
            [UInt8](unsafeUninitializedCapacity: 20) { out, count in
                func put(_ word: UInt32, at index: Int) {
                    out[4 * index] = UInt8(truncatingIfNeeded: word >> 24)
                    out[4 * index + 1] = UInt8(truncatingIfNeeded: word >> 16)
                    out[4 * index + 2] = UInt8(truncatingIfNeeded: word >> 8)
                    out[4 * index + 3] = UInt8(truncatingIfNeeded: word)
                }
                put(h.0, at: 0)
                put(h.1, at: 1)
                put(h.2, at: 2)
                put(h.3, at: 3)
                put(h.4, at: 4)
                count = 20
            }
        }

        private func rotl(_ x: UInt32, _ n: UInt32) -> UInt32 {
            (x << n) | (x >> (32 - n))
        }
    }
}
