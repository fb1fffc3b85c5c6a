/// SHA-1 (FIPS 180-4 §6.1, RFC 3174), one-shot.
///
/// We ship our own because `bus` has no dependencies: the stdlib has no hashing, Foundation's
/// `CryptoKit` is not on Linux, and linking OpenSSL for one handshake header is not worth it.
/// The only caller is the RFC 6455 §4.2.2 `Sec-WebSocket-Accept` value, which proves that the
/// server read the handshake, not that anything is secret: SHA-1's broken collision resistance
/// does not matter there. Do not use this for anything security-related.
///
/// It reads the input through subscripts only (no pointer arithmetic) and is fast enough for
/// a 60-byte key per connection; it is not tuned for bulk data.
public enum SHA1 {
    /// Length of a digest in bytes (160 bits).
    public static let digestLength = 20

    /// The 20-byte SHA-1 digest of `bytes`.
    public static func hash(_ bytes: UnsafeRawBufferPointer) -> [UInt8] {
        var state = State()
        let count = bytes.count
        var block = [UInt8](repeating: 0, count: 64)
        var offset = 0
        while count - offset >= 64 {
            for i in 0..<64 { block[i] = bytes[offset + i] }
            state.compress(block)
            offset += 64
        }
        // Padding (FIPS 180-4 §5.1.1): 0x80, zeros, then the bit length as a 64-bit
        // big-endian integer, filling one block, or two when fewer than 9 bytes remain.
        let rest = count - offset
        var tail = [UInt8](repeating: 0, count: rest < 56 ? 64 : 128)
        for i in 0..<rest { tail[i] = bytes[offset + i] }
        tail[rest] = 0x80
        let bitLength = UInt64(count) &* 8
        for i in 0..<8 {
            tail[tail.count - 1 - i] = UInt8(truncatingIfNeeded: bitLength >> (8 * UInt64(i)))
        }
        state.compress(Array(tail[0..<64]))
        if tail.count == 128 { state.compress(Array(tail[64..<128])) }
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
        /// Message schedule, reused across blocks to avoid an allocation per block.
        var w = [UInt32](repeating: 0, count: 80)

        /// Processes one 64-byte block (FIPS 180-4 §6.1.2).
        mutating func compress(_ block: [UInt8]) {
            for t in 0..<16 {
                w[t] = UInt32(block[4 * t]) << 24 | UInt32(block[4 * t + 1]) << 16
                    | UInt32(block[4 * t + 2]) << 8 | UInt32(block[4 * t + 3])
            }
            for t in 16..<80 {
                w[t] = rotl(w[t - 3] ^ w[t - 8] ^ w[t - 14] ^ w[t - 16], 1)
            }
            var (a, b, c, d, e) = h
            for t in 0..<80 {
                let f: UInt32
                let k: UInt32
                switch t {
                case 0..<20: f = (b & c) | (~b & d); k = 0x5A82_7999
                case 20..<40: f = b ^ c ^ d; k = 0x6ED9_EBA1
                case 40..<60: f = (b & c) | (b & d) | (c & d); k = 0x8F1B_BCDC
                default: f = b ^ c ^ d; k = 0xCA62_C1D6
                }
                let temp = rotl(a, 5) &+ f &+ e &+ k &+ w[t]
                e = d
                d = c
                c = rotl(b, 30)
                b = a
                a = temp
            }
            h = (h.0 &+ a, h.1 &+ b, h.2 &+ c, h.3 &+ d, h.4 &+ e)
        }

        /// H0...H4 as 20 big-endian bytes.
        var digest: [UInt8] {
            var out: [UInt8] = []
            out.reserveCapacity(20)
            for word in [h.0, h.1, h.2, h.3, h.4] {
                out.append(UInt8(truncatingIfNeeded: word >> 24))
                out.append(UInt8(truncatingIfNeeded: word >> 16))
                out.append(UInt8(truncatingIfNeeded: word >> 8))
                out.append(UInt8(truncatingIfNeeded: word))
            }
            return out
        }

        private func rotl(_ x: UInt32, _ n: UInt32) -> UInt32 {
            (x << n) | (x >> (32 - n))
        }
    }
}
