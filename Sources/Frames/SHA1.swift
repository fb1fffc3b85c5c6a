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
    public static func hash(_ bytes: UnsafeRawBufferPointer) -> [UInt8] {
        [UInt8](unsafeUninitializedCapacity: digestLength) { out, count in
            hash(bytes, into: UnsafeMutableRawBufferPointer(out))
            count = digestLength
        }
    }

    /// The 20-byte SHA-1 digest of `bytes`.
    public static func hash(_ bytes: [UInt8]) -> [UInt8] {
        bytes.withUnsafeBytes { hash($0) }
    }

    /// Writes the digest of `bytes` to the first 20 bytes of `digest`.
    ///
    /// Allocation-free: it runs once per WebSocket handshake, and a connection storm is
    /// thousands of handshakes a second. The padded tail and the message schedule live on the
    /// stack.
    static func hash(_ bytes: UnsafeRawBufferPointer, into digest: UnsafeMutableRawBufferPointer) {
        precondition(digest.count >= digestLength)
        var state = State()
        withUnsafeTemporaryAllocation(of: UInt32.self, capacity: 80) { schedule in
            let w = schedule.baseAddress!
            var offset = 0
            while bytes.count - offset >= 64 {
                State.schedule(bytes.baseAddress! + offset, into: w)
                state.rounds(w)
                offset += 64
            }
            // Padding (FIPS 180-4 §5.1.1): 0x80, zeros, then the bit length as a 64-bit
            // big-endian integer, filling one block, or two when fewer than 9 bytes remain.
            withUnsafeTemporaryAllocation(byteCount: 128, alignment: 8) { tail in
                let rest = bytes.count - offset
                let bitLength = UInt64(bytes.count) &* 8
                tail.initializeMemory(as: UInt8.self, repeating: 0)
                if rest > 0 { tail.copyMemory(from: UnsafeRawBufferPointer(rebasing: bytes[offset...])) }
                tail[rest] = 0x80
                guard rest >= 56 else {
                    tail.storeBytes(of: bitLength.bigEndian, toByteOffset: 56, as: UInt64.self)
                    State.schedule(tail.baseAddress!, into: w)
                    return state.rounds(w)
                }
                State.schedule(tail.baseAddress!, into: w)
                state.rounds(w)
                // The second block is zeros and the length: for the accept value's 60 bytes
                // (every handshake) its schedule is always the same one.
                if bitLength == 480 { return acceptPadding.withUnsafeBufferPointer { state.rounds($0.baseAddress!) } }
                tail.storeBytes(of: bitLength.bigEndian, toByteOffset: 120, as: UInt64.self)
                State.schedule(tail.baseAddress! + 64, into: w)
                state.rounds(w)
            }
        }
        // H0...H4 as 20 big-endian bytes.
        digest.storeBytes(of: state.h.0.bigEndian, toByteOffset: 0, as: UInt32.self)
        digest.storeBytes(of: state.h.1.bigEndian, toByteOffset: 4, as: UInt32.self)
        digest.storeBytes(of: state.h.2.bigEndian, toByteOffset: 8, as: UInt32.self)
        digest.storeBytes(of: state.h.3.bigEndian, toByteOffset: 12, as: UInt32.self)
        digest.storeBytes(of: state.h.4.bigEndian, toByteOffset: 16, as: UInt32.self)
    }

    /// The schedule of the last padding block of a 60-byte message (a 24-byte
    /// `Sec-WebSocket-Key` and the 36-byte GUID): 56 zero bytes and the length, 480 bits.
    static let acceptPadding: [UInt32] = {
        var block = [UInt8](repeating: 0, count: 64)
        block[62] = 0x01
        block[63] = 0xE0
        var w = [UInt32](repeating: 0, count: 80)
        block.withUnsafeBytes { block in w.withUnsafeMutableBufferPointer { State.schedule(block.baseAddress!, into: $0.baseAddress!) } }
        return w
    }()

    /// The five chaining words H0...H4 (FIPS 180-4 §5.3.1) and the block function.
    private struct State {
        var h: (UInt32, UInt32, UInt32, UInt32, UInt32) =
            (0x6745_2301, 0xEFCD_AB89, 0x98BA_DCFE, 0x1032_5476, 0xC3D2_E1F0)

        /// The 80-word message schedule of one 64-byte block (FIPS 180-4 §6.1.2 step 1).
        @inline(__always)
        static func schedule(_ block: UnsafeRawPointer, into w: UnsafeMutablePointer<UInt32>) {
            for t in 0..<16 {
                w[t] = UInt32(bigEndian: block.loadUnaligned(fromByteOffset: 4 * t, as: UInt32.self))
            }
            for t in 16..<80 {
                w[t] = rotl(w[t &- 3] ^ w[t &- 8] ^ w[t &- 14] ^ w[t &- 16], 1)
            }
        }

        /// The 80 steps over schedule `w` (FIPS 180-4 §6.1.2 steps 2–4): four rounds of 20,
        /// each with its function and constant (§4.1.1, §4.2.1; Ch and Maj in their forms with
        /// one operation fewer).
        @inline(__always)
        mutating func rounds(_ w: UnsafePointer<UInt32>) {
            var (a, b, c, d, e) = h
            // One step, with the working variables named where they stand: T = ROTL5(a) +
            // f(b, c, d) + e + K + W[t] lands in e's variable and b's becomes ROTL30(b), so
            // after five steps every name is back in place and no step moves five words.
            @inline(__always) func step(_ a: UInt32, _ b: inout UInt32, _ e: inout UInt32, _ f: UInt32, _ k: UInt32, _ t: Int) {
                e = e &+ Self.rotl(a, 5) &+ f &+ k &+ w[t]
                b = Self.rotl(b, 30)
            }
            @inline(__always) func round(_ first: Int, _ k: UInt32, _ f: (UInt32, UInt32, UInt32) -> UInt32) {
                for t in stride(from: first, to: first + 20, by: 5) {
                    step(a, &b, &e, f(b, c, d), k, t)
                    step(e, &a, &d, f(a, b, c), k, t + 1)
                    step(d, &e, &c, f(e, a, b), k, t + 2)
                    step(c, &d, &b, f(d, e, a), k, t + 3)
                    step(b, &c, &a, f(c, d, e), k, t + 4)
                }
            }
            round(0, 0x5A82_7999) { b, c, d in d ^ (b & (c ^ d)) }
            round(20, 0x6ED9_EBA1) { b, c, d in b ^ c ^ d }
            round(40, 0x8F1B_BCDC) { b, c, d in (b & c) | (d & (b | c)) }
            round(60, 0xCA62_C1D6) { b, c, d in b ^ c ^ d }
            h = (h.0 &+ a, h.1 &+ b, h.2 &+ c, h.3 &+ d, h.4 &+ e)
        }

        @inline(__always)
        static func rotl(_ x: UInt32, _ n: UInt32) -> UInt32 {
            (x &<< n) | (x &>> (32 &- n))
        }
    }
}
