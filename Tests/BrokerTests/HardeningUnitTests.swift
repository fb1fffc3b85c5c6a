import Testing
@testable import Broker

/// Issue 13's defects at the Broker helpers (the live tests are in HardeningTests).
@Suite struct HardeningUnitTests {
    /// Config durations and token lifetimes become nanoseconds; a huge or non-finite number
    /// of seconds saturates instead of trapping.
    @Test func nanosSaturates() {
        #expect(Connection.nanos(1e300) == .max)
    }
}
