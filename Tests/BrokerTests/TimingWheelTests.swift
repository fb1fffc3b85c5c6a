import Testing
@testable import Broker

@Suite struct TimingWheelTests {
    let tick = TimingWheel.tickNanos

    @Test func entryFiresAtItsTickNotBefore() {
        var wheel = TimingWheel(now: 0, slotCount: 8)
        let scheduled = wheel.schedule(42, at: 3)
        #expect(scheduled == 3)
        var due: [(id: UInt64, tick: UInt64)] = []
        wheel.collectDue(upTo: 2 * tick, into: &due)
        #expect(due.isEmpty)
        wheel.collectDue(upTo: 3 * tick, into: &due)
        #expect(due.map(\.id) == [42] && due.map(\.tick) == [3])
    }

    @Test func pastDeadlinesFireOnTheNextTick() {
        var wheel = TimingWheel(now: 10 * tick, slotCount: 8)
        #expect(wheel.schedule(1, at: 2) == 11)
    }

    @Test func deadlinesBeyondTheSpanFireEarlyAndCanReschedule() {
        var wheel = TimingWheel(now: 0, slotCount: 8)
        let first = wheel.schedule(7, at: 100)
        #expect(first == 7)  // the last slot of the span
        var due: [(id: UInt64, tick: UInt64)] = []
        wheel.collectDue(upTo: 7 * tick, into: &due)
        #expect(due.count == 1)
        #expect(wheel.schedule(7, at: 100) == 14)
    }

    @Test func everyEntryFiresExactlyOnceAcrossLongJumps() {
        var wheel = TimingWheel(now: 0, slotCount: 16)
        var expected: [UInt64: UInt64] = [:]
        for id in UInt64(1)...200 {
            expected[id] = wheel.schedule(id, at: id % 15 + 1)
        }
        var due: [(id: UInt64, tick: UInt64)] = []
        wheel.collectDue(upTo: 40 * tick, into: &due)
        #expect(due.count == 200)
        for entry in due { #expect(expected[entry.id] == entry.tick) }
    }
}

/// Churn leaves the wheel full of stale entries (connections that closed or rescheduled):
/// compaction must drop them and give their buffers back, or the wheel holds every
/// connection of the last minute instead of the open ones.
@Suite struct TimingWheelCompactionTests {
    let tick = TimingWheel.tickNanos

    /// 100,000 connections each schedule a handshake and a ping deadline, as a churn run does;
    /// five stay open. Their live entries remain, everything else goes, capacity included.
    @Test func compactionKeepsLiveEntriesAndGivesBackThePeak() {
        var wheel = TimingWheel(now: 0)
        var liveTick: [UInt64: UInt64] = [:]
        for id in UInt64(1)...100_000 {
            _ = wheel.schedule(id, at: 40)  // handshake deadline, stale once the upgrade is done
            liveTick[id] = wheel.schedule(id, at: 100 + id % 300)  // ping
        }
        #expect(wheel.needsCompaction)
        let peak = wheel.capacity
        #expect(peak >= 200_000)
        let open: Set<UInt64> = [3, 500, 70_001, 99_999, 100_000]
        wheel.compact { id, tick in open.contains(id) && liveTick[id] == tick }
        #expect(wheel.entryCount == open.count)
        #expect(wheel.capacity <= 2 * open.count)
        #expect(!wheel.needsCompaction)

        var due: [(id: UInt64, tick: UInt64)] = []
        wheel.collectDue(upTo: 500 * tick, into: &due)
        #expect(Set(due.map(\.id)) == open)
        for entry in due { #expect(liveTick[entry.id] == entry.tick) }
        #expect(wheel.entryCount == 0)
    }

    @Test func compactionIsDueOnlyPastTwiceWhatTheLastOneKept() {
        var wheel = TimingWheel(now: 0, slotCount: 64)
        for id in 1...UInt64(TimingWheel.compactionFloor - 1) { _ = wheel.schedule(id, at: id % 60 + 1) }
        #expect(!wheel.needsCompaction)
        _ = wheel.schedule(0, at: 5)
        #expect(wheel.needsCompaction)
        // Everything is live: nothing goes, and the next compaction waits for twice as many.
        wheel.compact { _, _ in true }
        #expect(wheel.entryCount == TimingWheel.compactionFloor)
        #expect(!wheel.needsCompaction)
        for id in 1...UInt64(TimingWheel.compactionFloor - 1) { _ = wheel.schedule(id, at: 7) }
        #expect(!wheel.needsCompaction)
        _ = wheel.schedule(0, at: 7)
        #expect(wheel.needsCompaction)
    }

    /// Firing a slot that held a burst gives its buffer back instead of keeping it for the
    /// next round of the wheel.
    @Test func aFiredBurstSlotDoesNotKeepItsCapacity() {
        var wheel = TimingWheel(now: 0, slotCount: 8)
        for id in UInt64(1)...10_000 { _ = wheel.schedule(id, at: 2) }
        var due: [(id: UInt64, tick: UInt64)] = []
        wheel.collectDue(upTo: 2 * tick, into: &due)
        #expect(due.count == 10_000)
        #expect(wheel.capacity <= 8 * TimingWheel.keptSlotCapacity)
    }
}
