/// The 32-bit masking key of a client frame (RFC 6455 §5.3), in wire order.
public struct MaskKey: Sendable, Equatable {
    /// The four key bytes as they appear in the frame header; payload byte `i` is XORed
    /// with byte `i % 4`.
    public var bytes: (UInt8, UInt8, UInt8, UInt8)

    @inlinable
    public init(_ b0: UInt8, _ b1: UInt8, _ b2: UInt8, _ b3: UInt8) {
        bytes = (b0, b1, b2, b3)
    }

    /// §5.3 requires a fresh, unpredictable key per frame, so clients draw from the
    /// system's cryptographic generator.
    public static func random() -> MaskKey {
        var generator = SystemRandomNumberGenerator()
        return random(using: &generator)
    }

    /// A key from a caller's generator (seeded generators make tests reproducible).
    public static func random<G: RandomNumberGenerator>(using generator: inout G) -> MaskKey {
        let value = generator.next() as UInt32
        return MaskKey(UInt8(truncatingIfNeeded: value), UInt8(truncatingIfNeeded: value >> 8),
                       UInt8(truncatingIfNeeded: value >> 16), UInt8(truncatingIfNeeded: value >> 24))
    }

    public static func == (lhs: MaskKey, rhs: MaskKey) -> Bool {
        lhs.bytes == rhs.bytes
    }

    /// Key byte `index % 4`.
    @inlinable
    subscript(index: Int) -> UInt8 {
        switch index & 3 {
        case 0: bytes.0
        case 1: bytes.1
        case 2: bytes.2
        default: bytes.3
        }
    }

    /// The key rotated so that its first byte is the one for payload position `offset`,
    /// repeated twice: XORing a UInt64 loaded from memory with it masks 8 payload bytes.
    /// Built from a little-endian value so the memory order is right on any endianness.
    @inlinable
    func pattern64(offset: Int) -> UInt64 {
        let key = UInt32(bytes.0) | UInt32(bytes.1) << 8 | UInt32(bytes.2) << 16 | UInt32(bytes.3) << 24
        let shift = UInt32((offset & 3) * 8)
        // Smart shifts: `<< 32` yields 0, so offset 0 leaves the key unrotated.
        let rotated = UInt64(key >> shift | key << (32 - shift))
        return UInt64(littleEndian: rotated | rotated << 32)
    }
}

/// XOR masking of payload bytes (RFC 6455 §5.3). The same operation masks and unmasks.
///
/// This file holds the only raw-pointer tricks in Frames (word loads and stores), so they can
/// be checked against a byte loop for every length, key offset and alignment in
/// `MaskingTests`, as gorilla/websocket does for `mask.go`.
public enum Masking {
    /// XORs `buffer` in place with `key`, where `offset` is the position of `buffer[0]` within
    /// the frame payload, so a payload that arrives in pieces can be unmasked piece by piece.
    ///
    /// Works 8 bytes at a time: a byte loop up to an 8-aligned address, then aligned UInt64
    /// words (4 per iteration, which the optimiser turns into vector code), then a byte tail.
    /// Since 8 is a multiple of 4, the key phase only changes in the head.
    @inlinable
    public static func apply(_ key: MaskKey, offset: Int, to buffer: UnsafeMutableRawBufferPointer) {
        guard var pointer = buffer.baseAddress, buffer.count > 0 else { return }
        var remaining = buffer.count
        var position = offset

        let misalignment = Int(bitPattern: pointer) & 7
        var head = misalignment == 0 ? 0 : min(8 - misalignment, remaining)
        remaining -= head
        while head > 0 {
            pointer.storeBytes(of: pointer.load(as: UInt8.self) ^ key[position], as: UInt8.self)
            pointer += 1
            position &+= 1
            head -= 1
        }

        if remaining >= 8 {
            let pattern = key.pattern64(offset: position)
            while remaining >= 32 {
                let w0 = pointer.loadUnaligned(fromByteOffset: 0, as: UInt64.self) ^ pattern
                let w1 = pointer.loadUnaligned(fromByteOffset: 8, as: UInt64.self) ^ pattern
                let w2 = pointer.loadUnaligned(fromByteOffset: 16, as: UInt64.self) ^ pattern
                let w3 = pointer.loadUnaligned(fromByteOffset: 24, as: UInt64.self) ^ pattern
                pointer.storeBytes(of: w0, toByteOffset: 0, as: UInt64.self)
                pointer.storeBytes(of: w1, toByteOffset: 8, as: UInt64.self)
                pointer.storeBytes(of: w2, toByteOffset: 16, as: UInt64.self)
                pointer.storeBytes(of: w3, toByteOffset: 24, as: UInt64.self)
                pointer += 32
                remaining -= 32
            }
            while remaining >= 8 {
                let word = pointer.loadUnaligned(as: UInt64.self) ^ pattern
                pointer.storeBytes(of: word, as: UInt64.self)
                pointer += 8
                remaining -= 8
            }
        }

        while remaining > 0 {
            pointer.storeBytes(of: pointer.load(as: UInt8.self) ^ key[position], as: UInt8.self)
            pointer += 1
            position &+= 1
            remaining -= 1
        }
    }
}
