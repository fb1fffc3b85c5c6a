import CZlib

/// Decompresses permessage-deflate messages (RFC 7692 §7.2.2) with the system's zlib.
///
/// Without `keepsContext` every message starts from an empty window, so one inflater serves
/// every connection of a loop whose peers agreed `client_no_context_takeover` (the server
/// always answers it): a message is inflated whole, within one `FrameDecoder.next` call,
/// before another connection's can start. With it (a client whose server keeps its
/// context) the window carries over and the inflater belongs to one connection.
///
/// Output is bounded while it is produced: a message that would inflate past `limit` bytes
/// fails as 1009 having held at most `limit + 1` bytes, whatever its compressed size (an
/// inflate bomb of 1 KiB costs no more than the limit). Loop-bound, hence not Sendable.
public final class Inflater {
    private let stream: UnsafeMutablePointer<z_stream>
    public let keepsContext: Bool
    /// The stream reached a final block (BFINAL): the next message starts afresh.
    private var ended = false
    /// Bytes the last message's output buffer held at its largest (tests check the bound).
    private(set) var lastOutputCapacity = 0

    /// The 4 octets the sender removed from the end of each message (§7.2.2): an empty
    /// stored block, appended here before inflating.
    private let tail: UnsafeMutableRawBufferPointer

    /// `windowBits` below 15 only to check what a peer with a smaller window can read (tests):
    /// a 15-bit inflater reads data compressed with any window.
    public init(keepsContext: Bool = false, windowBits: Int = 15) {
        self.keepsContext = keepsContext
        tail = .allocate(byteCount: 4, alignment: 1)
        tail.copyBytes(from: [0x00, 0x00, 0xFF, 0xFF] as [UInt8])
        stream = .allocate(capacity: 1)
        stream.initialize(to: z_stream())
        // Raw deflate (negative bits: no zlib header, §7.2.1), with the largest window, which
        // inflates data compressed with any smaller one.
        let status = bus_inflateInit2(stream, -Int32(windowBits))
        precondition(status == Z_OK, "inflateInit2 failed: \(status)")
    }

    deinit {
        inflateEnd(stream)
        stream.deinitialize(count: 1)
        stream.deallocate()
        tail.deallocate()
    }

    /// Inflates one message's payload (its frames' payloads joined) into a fresh buffer.
    /// Throws `.messageTooBig` past `limit` bytes, `.dataAfterFinalBlock` when bytes follow
    /// a block marked final, `.invalidCompressedData` for anything zlib rejects or a
    /// message that does not end on a block boundary.
    func inflate(_ input: UnsafeRawBufferPointer, limit: Int) throws(FrameError) -> MessageBuffer {
        if !keepsContext || ended {
            inflateReset(stream)
            ended = false
        }
        // Text and JSON inflate to a few times their size; start there, grow by doubling.
        let output = MessageBuffer(capacity: min(limit + 1, max(256, input.count * 4)))
        defer { lastOutputCapacity = output.capacity }
        do {
            if try feed(input, into: output, limit: limit, isTail: false) { return output }
            _ = try feed(UnsafeRawBufferPointer(tail), into: output, limit: limit, isTail: true)
        } catch {
            // A failed stream may be mid-block: the next message must not inherit it.
            ended = true
            throw error
        }
        // The appended empty stored block must leave the stream at a block boundary (zlib
        // sets bit 7 of data_type right after a block ends); otherwise the message stopped
        // inside a block.
        if !ended && stream.pointee.data_type & 128 == 0 {
            ended = true
            throw .invalidCompressedData
        }
        return output
    }

    /// Inflates all of `input`; true when the stream ended (BFINAL) on it.
    private func feed(_ input: UnsafeRawBufferPointer, into output: MessageBuffer, limit: Int,
                      isTail: Bool) throws(FrameError) -> Bool {
        guard let base = input.baseAddress, !input.isEmpty else { return false }
        stream.pointee.next_in = UnsafeMutablePointer(mutating: base.assumingMemoryBound(to: Bytef.self))
        stream.pointee.avail_in = uInt(input.count)
        defer {
            stream.pointee.next_in = nil
            stream.pointee.avail_in = 0
        }
        while true {
            if output.spare.isEmpty {
                guard output.capacity <= limit else { throw .messageTooBig }
                output.grow(to: min(limit + 1, output.capacity * 2))
            }
            let spare = output.spare
            stream.pointee.next_out = spare.baseAddress!.assumingMemoryBound(to: Bytef.self)
            stream.pointee.avail_out = uInt(spare.count)
            let status = CZlib.inflate(stream, Z_SYNC_FLUSH)
            output.commit(spare.count - Int(stream.pointee.avail_out))
            stream.pointee.next_out = nil
            if output.count > limit { throw .messageTooBig }
            switch status {
            case Z_STREAM_END:
                ended = true
                // §7.2.3.4 lets the sender end with a final block. Its example is followed by
                // one 0x00: the start of the empty stored block the sender appended (§7.2.1)
                // before removing 00 00 FF FF; with our tail it completes that block. Any
                // other byte after the final block is an error.
                let left = Int(stream.pointee.avail_in)
                if !isTail && left > 0 && !(left == 1 && stream.pointee.next_in.pointee == 0) { throw .dataAfterFinalBlock }
                return true
            case Z_OK, Z_BUF_ERROR:
                // Z_BUF_ERROR: no progress possible, i.e. input used up (or output full).
                if stream.pointee.avail_in == 0 && stream.pointee.avail_out > 0 { return false }
                if status == Z_BUF_ERROR && stream.pointee.avail_out > 0 { throw .invalidCompressedData }
            default:
                throw .invalidCompressedData  // Z_DATA_ERROR, Z_NEED_DICT, Z_MEM_ERROR, Z_STREAM_ERROR
            }
        }
    }

    /// Inflates a whole message to an array: for clients and tests.
    public func inflate(_ input: [UInt8], limit: Int = .max - 1) throws(FrameError) -> [UInt8] {
        let result = input.withUnsafeBytes { bytes in Result { () throws(FrameError) in try inflate(bytes, limit: limit) } }
        return try Array(result.get().bytes)
    }
}

@available(*, unavailable)
extension Inflater: Sendable {}
