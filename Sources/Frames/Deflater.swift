import CZlib

/// Compresses messages for permessage-deflate (RFC 7692 §7.2.1) with the system's zlib, each
/// one from an empty window (`server_no_context_takeover`, which our server always
/// answers): the bytes depend on the message alone, so one compressed encoding serves every
/// peer that agreed this window size.
///
/// Loop-bound (the server keeps one per loop and window size), hence not Sendable.
public final class Deflater {
    public let windowBits: Int
    public let level: Int
    public let memoryLevel: Int
    private let stream: UnsafeMutablePointer<z_stream>
    /// Where compressed bytes are written; reused, grown to the largest message seen.
    private var scratch: UnsafeMutableRawBufferPointer

    /// `level` and `memoryLevel` as zlib's (1–9 each). Chosen by measurement over the JSON
    /// corpus of bench/payloads (bench/deflate-levels.c; bench/README.md, "permessage-deflate"):
    /// level 1 compresses the corpus to 0.445 of its size against 0.427 at zlib's default 6,
    /// in 17 % less time per message (the nested documents of a few KiB: 40 % less). Memory
    /// level 4 compresses as well as 8 here, and `deflateReset` clears its hash table,
    /// 2^(memoryLevel + 8) bytes, on every message: 4 KiB instead of 64 KiB (about 1.2 µs
    /// less per message, which small messages notice); memory level 1 ends a block every
    /// 128 symbols, which costs more than it saves.
    public init(windowBits: Int = 15, level: Int = Deflater.defaultLevel, memoryLevel: Int = Deflater.defaultMemoryLevel) {
        precondition((PerMessageDeflate.smallestWindowBits...15).contains(windowBits), "zlib deflates with 9 to 15 window bits")
        self.windowBits = windowBits
        self.level = level
        self.memoryLevel = memoryLevel
        stream = .allocate(capacity: 1)
        stream.initialize(to: z_stream())
        let status = bus_deflateInit2(stream, Int32(level), -Int32(windowBits), Int32(memoryLevel))
        precondition(status == Z_OK, "deflateInit2 failed: \(status)")
        scratch = .allocate(byteCount: 4096, alignment: 16)
    }

    public static let defaultLevel = 1
    public static let defaultMemoryLevel = 4

    deinit {
        deflateEnd(stream)
        stream.deinitialize(count: 1)
        stream.deallocate()
        scratch.deallocate()
    }

    /// Compresses `input` as one whole message: deflate with a sync flush, then the final
    /// `00 00 FF FF` removed (§7.2.1). Returns the bytes (valid until the next call), or nil
    /// when they would be more than `maxCount` bytes: compression stops as soon as the output
    /// passes that, so an incompressible message costs little.
    public func compress(_ input: UnsafeRawBufferPointer, maxCount: Int = .max) -> UnsafeRawBufferPointer? {
        deflateReset(stream)
        // What deflate may write before we know it is too long: maxCount plus the 4-octet tail
        // that is removed, capped by zlib's bound for this input.
        let bound = Int(deflateBound(stream, uLong(input.count))) + 16
        let room = min(bound, maxCount &+ 4 < maxCount ? bound : maxCount + 4)
        if scratch.count < room {
            scratch.deallocate()
            scratch = .allocate(byteCount: room, alignment: 16)
        }
        stream.pointee.next_in = UnsafeMutablePointer(mutating: input.baseAddress?.assumingMemoryBound(to: Bytef.self))
        stream.pointee.avail_in = uInt(input.count)
        stream.pointee.next_out = scratch.baseAddress!.assumingMemoryBound(to: Bytef.self)
        stream.pointee.avail_out = uInt(room)
        let status = deflate(stream, Z_SYNC_FLUSH)
        let produced = room - Int(stream.pointee.avail_out)
        let left = stream.pointee.avail_in
        stream.pointee.next_in = nil
        stream.pointee.next_out = nil
        // Output full: either longer than maxCount, or (not expected below zlib's bound) more
        // to come; both mean the plain message is sent instead.
        guard status == Z_OK, left == 0, stream.pointee.avail_out > 0, produced >= 4 else { return nil }
        let count = produced - 4
        guard count <= maxCount else { return nil }
        return UnsafeRawBufferPointer(rebasing: scratch[..<count])
    }

    /// Compresses a whole message to an array (nil never: no limit): for clients and tests.
    public func compress(_ input: [UInt8]) -> [UInt8] {
        input.withUnsafeBytes { Array(compress($0)!) }
    }
}

@available(*, unavailable)
extension Deflater: Sendable {}
