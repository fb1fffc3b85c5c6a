/// A connection's outgoing buffers: a FIFO of shared `OutboundBytes`, bounded by message count
/// and by bytes. The queue never copies: it holds references and the write offset into the
/// first one.
///
/// An idle connection's queue owns no heap memory. Up to two entries at a time (an ack, a
/// delivery to a subscriber that keeps up, the upgrade's 101 with the ack of a subscribe sent
/// right behind it) live inline in `inline`; the ring is allocated only when a third is queued
/// behind them, then kept while the connection is busy (no allocation per message) and given
/// back by `releaseIdleStorage` once the queue has been empty a while.
struct SendQueue {
    /// The entries while the ring is unallocated (then the queue holds at most two).
    private var inline: (OutboundBytes?, OutboundBytes?)
    /// Power-of-two storage once two entries were queued at once; empty otherwise.
    private var ring: [OutboundBytes?] = []
    /// Bytes of the first entry already written to the socket.
    private(set) var headOffset = 0
    /// Unsent bytes across all entries.
    private(set) var byteCount = 0
    private var head: Int32 = 0
    private var entries: Int32 = 0

    var count: Int { Int(entries) }
    var isEmpty: Bool { entries == 0 }

    /// Slots of ring storage held (0 while the entries fit inline): tests of laziness.
    var ringCapacity: Int { ring.count }

    /// The entry being written (or next to be), if any.
    var first: OutboundBytes? { ring.isEmpty ? inline.0 : entries > 0 ? ring[Int(head)] : nil }

    /// The entry `index` places behind the first.
    private func entry(_ index: Int) -> OutboundBytes {
        if ring.isEmpty { return (index == 0 ? inline.0 : inline.1).unsafelyUnwrapped }
        return ring[(Int(head) + index) & (ring.count - 1)].unsafelyUnwrapped
    }

    /// The address and length of entry `index`, read in place: returning the entry itself
    /// from two places (inline or ring) made the optimiser retain and release it on every
    /// call, 20 % of the server's CPU per delivery when saturated (perf, `bench saturate`).
    @inline(__always)
    private func bytesOf(_ index: Int) -> (base: UnsafeRawPointer, count: Int) {
        if ring.isEmpty {
            if index == 0 {
                let bytes = inline.0.unsafelyUnwrapped
                return (bytes.baseAddress, bytes.count)
            }
            let bytes = inline.1.unsafelyUnwrapped
            return (bytes.baseAddress, bytes.count)
        }
        let bytes = ring[(Int(head) + index) & (ring.count - 1)].unsafelyUnwrapped
        return (bytes.baseAddress, bytes.count)
    }

    /// Appends unconditionally; callers check `wouldOverflow` first where a bound applies.
    mutating func append(_ bytes: OutboundBytes) {
        if ring.isEmpty && entries < 2 {
            if entries == 0 { inline.0 = bytes } else { inline.1 = bytes }
        } else {
            if ring.isEmpty || count == ring.count { grow() }
            ring[(Int(head) + count) & (ring.count - 1)] = bytes
        }
        entries += 1
        byteCount += bytes.count
    }

    func wouldOverflow(adding bytes: Int, maxMessages: Int, maxBytes: Int) -> Bool {
        count >= maxMessages || byteCount + bytes > maxBytes
    }

    /// Drops every entry except the rest of one already half-written (so the stream stays a
    /// valid frame sequence). Returns the bytes released.
    @discardableResult
    mutating func dropUnstarted() -> Int {
        let keep = headOffset > 0 ? 1 : 0
        let before = byteCount
        var index = keep
        while index < count {
            byteCount -= bytesOf(index).count
            clear(index)
            index += 1
        }
        entries = Int32(min(keep, count))
        return before - byteCount
    }

    /// Visits every entry not yet started (what `dropUnstarted` would release).
    func forEachUnstarted(_ body: (OutboundBytes) -> Void) {
        var index = headOffset > 0 ? 1 : 0
        while index < count {
            body(entry(index))
            index += 1
        }
    }

    mutating func removeAll() {
        for index in 0..<count { clear(index) }
        head = 0; entries = 0; headOffset = 0; byteCount = 0
    }

    /// The queue has been empty a while (the connection's timer saw it idle): its ring goes
    /// back to the allocator. A busy queue keeps it, so steady traffic allocates nothing.
    mutating func releaseIdleStorage() {
        guard entries == 0, !ring.isEmpty else { return }
        ring = []
        head = 0
    }

    /// Fills up to `capacity` iovecs with the unsent bytes, in order; returns how many.
    func fill(_ vectors: UnsafeMutablePointer<iovec>, capacity: Int) -> Int {
        let n = min(count, capacity)
        for index in 0..<n {
            let bytes = bytesOf(index)
            let skip = index == 0 ? headOffset : 0
            vectors[index] = iovec(iov_base: UnsafeMutableRawPointer(mutating: bytes.base + skip), iov_len: bytes.count - skip)
        }
        return n
    }

    /// Marks `written` bytes as sent, releasing every entry fully written.
    /// (Zero-length entries, e.g. an empty frame never exists, but be safe, are released too.)
    mutating func consume(_ written: Int) {
        var remaining = written
        byteCount -= written
        while entries > 0 {
            let left = bytesOf(0).count - headOffset
            if remaining < left {
                headOffset += remaining
                return
            }
            remaining -= left
            if ring.isEmpty { inline = (inline.1, nil) } else { popRing() }
            entries -= 1
            headOffset = 0
        }
    }

    /// Out of line: inlined, the optimiser made the ring unique before the loop above, which
    /// for the empty ring of an inline queue (the common case) allocated an empty array per
    /// write (issue 18, connection churn).
    @inline(never)
    private mutating func popRing() {
        ring[Int(head)] = nil
        head = Int32((Int(head) + 1) & (ring.count - 1))
    }

    private mutating func clear(_ index: Int) {
        if ring.isEmpty {
            if index == 0 { inline.0 = nil } else { inline.1 = nil }
        } else {
            ring[(Int(head) + index) & (ring.count - 1)] = nil
        }
    }

    private mutating func grow() {
        let capacity = max(4, ring.count * 2)  // powers of two, so indexes wrap with a mask
        var bigger = [OutboundBytes?](repeating: nil, count: capacity)
        for index in 0..<count { bigger[index] = entry(index) }
        ring = bigger
        inline = (nil, nil)
        head = 0
    }
}
