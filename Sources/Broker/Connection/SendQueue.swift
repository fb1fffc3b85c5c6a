
/// A connection's outgoing buffers: a FIFO of shared `OutboundBytes`, bounded by message count
/// and by bytes. The queue never copies: it holds references and the write offset into the
/// first one. An idle connection's queue owns no heap memory; storage is allocated on the first
/// backlog and then kept, at most `maxMessages` references.
struct SendQueue {
    private var ring: [OutboundBytes?] = []
    private var head = 0
    private(set) var count = 0
    /// Bytes of the first entry already written to the socket.
    private(set) var headOffset = 0
    /// Unsent bytes across all entries.
    private(set) var byteCount = 0

    var isEmpty: Bool { count == 0 }

    /// The entry being written (or next to be), if any.
    var first: OutboundBytes? { count > 0 ? ring[head] : nil }

    /// Appends unconditionally; callers check `wouldOverflow` first where a bound applies.
    mutating func append(_ bytes: OutboundBytes) {
        if count == ring.count { grow() }
        ring[(head + count) & (ring.count - 1)] = bytes
        count += 1
        byteCount += bytes.count
    }

    func wouldOverflow(adding bytes: Int, maxMessages: Int, maxBytes: Int) -> Bool {
        count >= maxMessages || byteCount + bytes > maxBytes
    }

    /// Drops every entry except the rest of one already half-written (so the stream stays a
    /// valid frame sequence). Returns the bytes released.
    @discardableResult
    mutating func dropUnstarted() -> Int {
        let keepHead = headOffset > 0
        let before = byteCount
        var index = keepHead ? 1 : 0
        while index < count {
            let slot = (head + index) & (ring.count - 1)
            byteCount -= ring[slot]!.count
            ring[slot] = nil
            index += 1
        }
        count = keepHead ? 1 : 0
        return before - byteCount
    }

    /// Visits every entry not yet started (what `dropUnstarted` would release).
    func forEachUnstarted(_ body: (OutboundBytes) -> Void) {
        var index = headOffset > 0 ? 1 : 0
        while index < count {
            body(ring[(head + index) & (ring.count - 1)]!)
            index += 1
        }
    }

    mutating func removeAll() {
        for index in 0..<count { ring[(head + index) & (ring.count - 1)] = nil }
        head = 0; count = 0; headOffset = 0; byteCount = 0
    }

    /// Fills up to `capacity` iovecs with the unsent bytes, in order; returns how many.
    func fill(_ vectors: UnsafeMutablePointer<iovec>, capacity: Int) -> Int {
        let n = min(count, capacity)
        for index in 0..<n {
            let bytes = ring[(head + index) & (ring.count - 1)]!
            let skip = index == 0 ? headOffset : 0
            vectors[index] = iovec(iov_base: UnsafeMutableRawPointer(mutating: bytes.baseAddress + skip),
                                   iov_len: bytes.count - skip)
        }
        return n
    }

    /// Marks `written` bytes as sent, releasing every entry fully written.
    mutating func consume(_ written: Int) {
        var remaining = written
        byteCount -= written
        while remaining > 0 {
            let bytes = ring[head]!
            let left = bytes.count - headOffset
            if remaining < left {
                headOffset += remaining
                return
            }
            remaining -= left
            ring[head] = nil
            head = (head + 1) & (ring.count - 1)
            count -= 1
            headOffset = 0
        }
        // Zero-length entries (e.g. an empty frame never exists, but be safe) are released too.
        while count > 0, let first = ring[head], first.count == headOffset {
            ring[head] = nil
            head = (head + 1) & (ring.count - 1)
            count -= 1
            headOffset = 0
        }
    }

    private mutating func grow() {
        let capacity = max(4, ring.count * 2)  // powers of two, so indexes wrap with a mask
        var bigger = [OutboundBytes?](repeating: nil, count: capacity)
        for index in 0..<count { bigger[index] = ring[(head + index) & (ring.count - 1)] }
        ring = bigger
        head = 0
    }
}
