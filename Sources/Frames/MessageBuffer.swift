/// The bytes of a message being reassembled, in memory the decoder allocates itself.
///
/// `FrameDecoder.next` returns a reassembled message as a pointer that must stay valid until
/// the decoder's next call; an Array's `withUnsafeBytes` promises its pointer only inside the
/// closure, so the decoder owns this storage instead. Grows by doubling, only as bytes
/// arrive (a header may claim 2^63 bytes); a message that completes is handed out whole.
///
/// A reference type shared between copies of a decoder, so the decoder copies it before
/// writing unless it holds the only reference. Loop-bound, hence not Sendable.
final class MessageBuffer {
    private var storage: UnsafeMutableRawBufferPointer
    private(set) var count = 0

    init(capacity: Int) {
        storage = .allocate(byteCount: max(capacity, 64), alignment: 1)
    }

    deinit { storage.deallocate() }

    /// The stored bytes; valid until the next `append` or until this buffer is released.
    var bytes: UnsafeRawBufferPointer { UnsafeRawBufferPointer(rebasing: storage[..<count]) }

    func append(_ piece: UnsafeRawBufferPointer) {
        guard !piece.isEmpty else { return }
        if count + piece.count > storage.count {
            let larger = UnsafeMutableRawBufferPointer.allocate(
                byteCount: max(storage.count * 2, count + piece.count), alignment: 1)
            larger.copyMemory(from: bytes)
            storage.deallocate()
            storage = larger
        }
        UnsafeMutableRawBufferPointer(rebasing: storage[count...]).copyMemory(from: piece)
        count += piece.count
    }

    /// Room after the stored bytes, for a producer writing in place (the inflater).
    var capacity: Int { storage.count }
    var spare: UnsafeMutableRawBufferPointer { UnsafeMutableRawBufferPointer(rebasing: storage[count...]) }

    /// Grows the storage to `newCapacity` bytes (never shrinks).
    func grow(to newCapacity: Int) {
        guard newCapacity > storage.count else { return }
        let larger = UnsafeMutableRawBufferPointer.allocate(byteCount: newCapacity, alignment: 1)
        larger.copyMemory(from: bytes)
        storage.deallocate()
        storage = larger
    }

    /// Counts `n` bytes written into `spare` as stored.
    func commit(_ n: Int) {
        precondition(count + n <= storage.count)
        count += n
    }

    /// Drops the last `n` bytes (an interleaved control frame taken out, RFC 6455 §5.4).
    func removeLast(_ n: Int) {
        precondition(n <= count)
        count -= n
    }

    func copy() -> MessageBuffer {
        let copy = MessageBuffer(capacity: storage.count)
        copy.append(bytes)
        return copy
    }
}

@available(*, unavailable)
extension MessageBuffer: Sendable {}
