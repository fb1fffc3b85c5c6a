/// One per loop: the deadlines of all its connections (handshake, ping, liveness, close).
///
/// An entry is a connection id in the slot of its tick; no timer objects. A connection keeps
/// the tick of its live entry, so when it reschedules, the old entry goes stale and is skipped
/// when its slot fires. Ticks further ahead than the wheel's span land in an earlier slot; the
/// connection then sees its deadline has not come and schedules again.
///
/// Stale entries (a connection that rescheduled or closed) would otherwise stay until their
/// slot comes round, up to a minute later for a ping or handshake deadline: under churn the
/// wheel would hold every connection of the last minute, not the open ones. `compact` drops
/// them once entries pass twice the live count of the last compaction, so the wheel holds
/// O(open connections) and each compaction is paid for by the schedules that made it due.
struct TimingWheel {
    /// Tick length. A quarter second keeps deadlines within 250 ms of their due time at a cost
    /// of four idle wake-ups a second per loop.
    static let tickNanos: UInt64 = 250_000_000
    /// Entries below which the wheel never compacts (8 bytes each: 8 KB per loop at most).
    static let compactionFloor = 1024
    /// A slot emptied on firing keeps its buffer up to this many entries (reused next round).
    static let keptSlotCapacity = 64
    private var slots: [[UInt64]]
    private(set) var currentTick: UInt64
    /// Entries in the slots, live or stale.
    private(set) var entryCount = 0
    /// `entryCount` at which stale entries are swept out.
    private var compactAt = Self.compactionFloor

    init(now: UInt64, slotCount: Int = 512) {
        slots = Array(repeating: [], count: slotCount)
        currentTick = now / Self.tickNanos
    }

    /// Rounds up without overflowing: a deadline may be `UInt64.max` ("never").
    static func tick(for nanos: UInt64) -> UInt64 { nanos / tickNanos + (nanos % tickNanos == 0 ? 0 : 1) }

    /// Schedules `id` for `tick` (at least the next tick); returns the tick used.
    mutating func schedule(_ id: UInt64, at tick: UInt64) -> UInt64 {
        let target = max(tick, currentTick + 1)
        let span = UInt64(slots.count)
        let slot = target - currentTick >= span ? currentTick + span - 1 : target
        slots[Int(slot % span)].append(id)
        entryCount += 1
        return slot
    }

    /// Moves every entry due up to `now` into `due` as (id, tick). Firing happens outside the
    /// wheel, because a fired connection usually schedules itself again.
    mutating func collectDue(upTo now: UInt64, into due: inout [(id: UInt64, tick: UInt64)]) {
        let target = now / Self.tickNanos
        while currentTick < target {
            currentTick += 1
            let index = Int(currentTick % UInt64(slots.count))
            guard !slots[index].isEmpty else { continue }
            for id in slots[index] { due.append((id, currentTick)) }
            entryCount -= slots[index].count
            slots[index].removeAll(keepingCapacity: slots[index].capacity <= Self.keptSlotCapacity)
        }
    }

    /// Stale entries may outnumber live ones: time to `compact`.
    var needsCompaction: Bool { entryCount >= compactAt }

    /// Keeps only the entries `isLive(id, tick)` accepts; every slot's buffer is cut to what it
    /// keeps, so a burst's peak is given back.
    mutating func compact(keeping isLive: (UInt64, UInt64) -> Bool) {
        let span = UInt64(slots.count)
        var kept = 0
        var live: [UInt64] = []
        for offset in 1..<span {
            let tick = currentTick + offset
            let index = Int(tick % span)
            guard !slots[index].isEmpty else { continue }
            for id in slots[index] where isLive(id, tick) { live.append(id) }
            var fresh: [UInt64] = []
            if !live.isEmpty {
                fresh.reserveCapacity(live.count)
                fresh.append(contentsOf: live)
            }
            slots[index] = fresh
            kept += live.count
            live.removeAll(keepingCapacity: true)
        }
        entryCount = kept
        compactAt = max(Self.compactionFloor, 2 * kept)
    }

    /// Entries the slots have room for without growing (what the wheel's buffers hold).
    var capacity: Int { slots.reduce(0) { $0 + $1.capacity } }

    /// Nanoseconds until the next tick boundary (the loop's epoll timeout).
    func nanosUntilNextTick(now: UInt64) -> UInt64 {
        let next = (now / Self.tickNanos + 1) * Self.tickNanos
        return next - now
    }
}
