/// One per loop: the deadlines of all its connections (handshake, ping, liveness, close).
///
/// An entry is a connection id in the slot of its tick; no timer objects. A connection keeps
/// the tick of its live entry, so when it reschedules, the old entry goes stale and is skipped
/// when its slot fires. Ticks further ahead than the wheel's span land in an earlier slot; the
/// connection then sees its deadline has not come and schedules again.
struct TimingWheel {
    /// Tick length. A quarter second keeps deadlines within 250 ms of their due time at a cost
    /// of four idle wake-ups a second per loop.
    static let tickNanos: UInt64 = 250_000_000
    private var slots: [[UInt64]]
    private(set) var currentTick: UInt64

    init(now: UInt64, slotCount: Int = 512) {
        slots = Array(repeating: [], count: slotCount)
        currentTick = now / Self.tickNanos
    }

    static func tick(for nanos: UInt64) -> UInt64 { (nanos + tickNanos - 1) / tickNanos }

    /// Schedules `id` for `tick` (at least the next tick); returns the tick used.
    mutating func schedule(_ id: UInt64, at tick: UInt64) -> UInt64 {
        let target = max(tick, currentTick + 1)
        let span = UInt64(slots.count)
        let slot = target - currentTick >= span ? currentTick + span - 1 : target
        slots[Int(slot % span)].append(id)
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
            slots[index].removeAll(keepingCapacity: slots[index].count <= 64)
        }
    }

    /// Nanoseconds until the next tick boundary (the loop's epoll timeout).
    func nanosUntilNextTick(now: UInt64) -> UInt64 {
        let next = (now / Self.tickNanos + 1) * Self.tickNanos
        return next - now
    }
}
