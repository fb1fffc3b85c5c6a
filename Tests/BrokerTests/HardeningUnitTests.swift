import NATS
import Testing
import Topics
@testable import Broker

/// Issue 13's defects at the Broker helpers (the live tests are in HardeningTests).
@Suite struct HardeningUnitTests {
    /// Config durations and token lifetimes become nanoseconds; a huge or non-finite number
    /// of seconds saturates instead of trapping.
    @Test func nanosSaturates() {
        #expect(Connection.nanos(1e300) == .max)
    }

    /// Every byte string that becomes a topic goes through the topic validator as bytes: a
    /// subject from NATS that is not UTF-8 must not be repaired into `a.\u{FFFD}`.
    @Test func backplaneSubjectThatIsNotUTF8IsNoTopic() throws {
        var parser = NATSParser()
        let raw: [UInt8] = Array("MSG bus.a.".utf8) + [0xFF] + Array(" 1 2\r\nhi\r\n".utf8)
        guard case .message(let message) = try #require(try parser.feed(raw).first) else { Issue.record("no message"); return }
        #expect(Backplane.topic(of: message, limits: .default) == nil)
        let good = Array("MSG bus.a.é 1 2\r\nhi\r\n".utf8)
        guard case .message(let valid) = try #require(try parser.feed(good).first) else { Issue.record("no message"); return }
        #expect(Backplane.topic(of: valid, limits: .default)?.string == "a.é")
    }
}
