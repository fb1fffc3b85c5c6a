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
