/// A topic's recent messages: the already-encoded frames (shared with the subscribers' queues,
/// never copied), oldest first, with the time each was published and the bytes it holds
/// (the frame and its other encodings made so far: a compressed copy, an event-stream one). Bounded by its policy's
/// message count; storage grows by doubling up to that bound, so a quiet topic holding one
/// message costs one slot, not a hundred.
struct HistoryRing {
    /// One array, not one of frames and one of their times and sizes: an append checks and
    /// writes one buffer, and growing allocates one (each new array of a type the runtime
    /// has no prespecialized metadata for looks its metadata up, about 670 instructions).
    private var slots: [Slot] = []
    private var head = 0
    private(set) var count = 0
    /// Bytes of all retained frames and their other encodings.
    private(set) var bytes = 0
    /// The owner offset of the newest message this topic no longer holds (pushed out, aged
    /// out, or never kept), and the owner's offset clock when that happened: a pattern
    /// resume reads what is lost from them (see `LoopHub+PatternResume`).
    private(set) var droppedOffset: UInt64 = 0
    private(set) var droppedAt: UInt64 = 0
    let capacity: Int

    init(capacity: Int) { self.capacity = capacity }

    var isEmpty: Bool { count == 0 }

    /// Sequence number of the oldest retained message.
    var firstSeq: UInt64? { count == 0 ? nil : slots[head].frame!.stamp!.position.seq }

    /// Appends a frame published at `time`; returns the bytes freed by pushing out the oldest.
    mutating func append(_ frame: OutboundBytes, at time: UInt64, clock: UInt64 = 0) -> Int {
        guard capacity > 0 else {
            noteDropped(frame, clock: clock)
            return 0
        }
        var freed = 0
        if count == capacity { freed = dropOldest(clock: clock) }
        if count == slots.count { grow() }
        slots[(head + count) % slots.count] = Slot(frame: frame, time: time, bytes: frame.count)
        count += 1
        bytes += frame.count
        return freed
    }

    /// Removes the oldest message; returns its bytes.
    @discardableResult
    mutating func dropOldest(clock: UInt64 = 0) -> Int {
        guard count > 0 else { return 0 }
        let size = slots[head].bytes
        noteDropped(slots[head].frame!, clock: clock)
        slots[head] = Slot()
        head = (head + 1) % slots.count
        count -= 1
        bytes -= size
        return size
    }

    /// Drops messages published before `cutoff`; returns the bytes freed.
    mutating func expire(before cutoff: UInt64, clock: UInt64 = 0) -> Int {
        var freed = 0
        while count > 0 && slots[head].time < cutoff { freed += dropOldest(clock: clock) }
        return freed
    }

    /// Drops everything; returns the bytes freed.
    mutating func removeAll(clock: UInt64 = 0) -> Int {
        if count > 0 { noteDropped(slots[(head + count - 1) % slots.count].frame!, clock: clock) }
        let freed = bytes
        slots = []
        head = 0
        count = 0
        bytes = 0
        return freed
    }

    /// Up to `limit` frames with seq ≥ `start`, oldest first.
    /// Up to `limit` frames from seq `start` on, stopping before the one that would take the
    /// page past `maxBytes` (the first is always taken).
    func frames(from start: UInt64, limit: Int, maxBytes: Int = .max) -> [OutboundBytes] {
        guard let first = firstSeq, limit > 0 else { return [] }
        let skip = start > first ? Int(min(start - first, UInt64(count))) : 0
        let take = min(limit, count - skip)
        guard take > 0 else { return [] }
        var page: [OutboundBytes] = []
        var bytes = 0
        for offset in skip..<(skip + take) {
            let frame = slots[(head + offset) % slots.count].frame!
            if !page.isEmpty && bytes + frame.count > maxBytes { break }
            bytes += frame.count
            page.append(frame)
        }
        return page
    }

    /// The frame `index` places after the oldest retained one.
    func frame(at index: Int) -> OutboundBytes { slots[(head + index) % slots.count].frame! }

    /// The index of the oldest retained frame with an offset above `offset` and a seq of at
    /// least `seq` (both grow along the ring), or nil.
    func firstIndex(offsetAbove offset: UInt64, seqAtLeast seq: UInt64) -> Int? {
        var low = 0
        var high = count
        while low < high {
            let middle = (low + high) / 2
            let stamp = frame(at: middle).stamp!
            if stamp.offset > offset && stamp.position.seq >= seq { high = middle } else { low = middle + 1 }
        }
        return low < count ? low : nil
    }

    /// Another encoding of `frame` (`bytes` long) was made: if this ring still holds it, the
    /// bytes count as held; returns them, or 0.
    mutating func charge(_ frame: OutboundBytes, bytes extra: Int) -> Int {
        guard let seq = frame.stamp?.position.seq, let first = firstSeq, seq >= first, seq - first < UInt64(count) else { return 0 }
        let slot = (head + Int(seq - first)) % slots.count
        guard slots[slot].frame === frame else { return 0 }
        slots[slot].bytes += extra
        bytes += extra
        return extra
    }

    /// Messages up to `offset` are not held (start-up: history on disk did not keep them).
    mutating func noteLost(upTo offset: UInt64) { droppedOffset = max(droppedOffset, offset) }

    private mutating func noteDropped(_ frame: OutboundBytes, clock: UInt64) {
        guard let offset = frame.stamp?.offset, offset > droppedOffset else { return }
        droppedOffset = offset
        droppedAt = clock
    }

    private mutating func grow() {
        let size = min(capacity, max(4, slots.count * 2))
        var grown = [Slot](repeating: Slot(), count: size)
        for index in 0..<count { grown[index] = slots[(head + index) % slots.count] }
        slots = grown
        head = 0
    }
}

/// A retained message, when it was published, and the bytes it holds; empty when free.
private struct Slot {
    var frame: OutboundBytes?
    var time: UInt64 = 0
    var bytes = 0
}

/// How much history a topic keeps: messages and age. Zero messages turns history off.
struct HistoryPolicy: Sendable, Equatable {
    var messages: Int
    var maxAge: Double

    var ageNanos: UInt64 { UInt64(maxAge * 1_000_000_000) }
}
