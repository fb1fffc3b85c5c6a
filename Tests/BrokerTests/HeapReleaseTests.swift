import Testing
@testable import Broker

/// When a loop hands its free heap back: after a big peak has mostly gone, on a quiet turn.
@Suite struct HeapReleaseTests {
    @Test func aPeakThatFellUnderAQuarterIsReleasedOnTheNextQuietTurnOnly() {
        var release = HeapRelease()
        for count in 1...2000 { release.connectionsChanged(to: count) }
        let released1 = release.quietTurn(connections: 2000)
        #expect(!released1)
        for count in stride(from: 1999, through: 499, by: -1) { release.connectionsChanged(to: count) }
        #expect(release.isDue)
        let released2 = release.quietTurn(connections: 499)
        #expect(released2)
        let released3 = release.quietTurn(connections: 499)
        #expect(!released3)  // once
        #expect(release.peak == 499)
    }

    @Test func smallPeaksAndSteadyLoadsAreLeftAlone() {
        var release = HeapRelease()
        // A churn of 64 at a time: its memory is reused by the next connections anyway.
        for _ in 0..<1000 {
            for count in 1...64 { release.connectionsChanged(to: count) }
            for count in stride(from: 63, through: 0, by: -1) { release.connectionsChanged(to: count) }
        }
        let released4 = release.quietTurn(connections: 0)
        #expect(!released4)
        // Thousands open, coming and going a little.
        for count in 1...5000 { release.connectionsChanged(to: count) }
        for count in stride(from: 4999, through: 3000, by: -1) { release.connectionsChanged(to: count) }
        let released5 = release.quietTurn(connections: 3000)
        #expect(!released5)
    }

    @Test func theNextReleaseNeedsANewFallFromTheNewPeak() {
        var release = HeapRelease()
        release.connectionsChanged(to: 4000)
        release.connectionsChanged(to: 400)
        let first = release.quietTurn(connections: 400)
        #expect(first)
        release.connectionsChanged(to: 50)  // under a quarter of 400, but 400 is a small peak
        let second = release.quietTurn(connections: 50)
        #expect(!second)
        release.connectionsChanged(to: 3000)
        release.connectionsChanged(to: 700)
        let third = release.quietTurn(connections: 700)
        #expect(third)
    }
}
