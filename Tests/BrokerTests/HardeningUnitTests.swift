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

    /// Replay starts from client numbers, at their extremes: never a wrap, never a replay of
    /// a position the topic did not issue (a topic at seq 10 holding 6...10, epoch "e").
    @Test(arguments: [
        (ReplayStart.since(epoch: "e", seq: .max), nil, false),
        (.since(epoch: "e", seq: .max - 1), nil, false),
        (.since(epoch: "e", seq: 11), nil, false),
        (.since(epoch: "e", seq: 10), nil, true),
        (.since(epoch: "e", seq: 9), 10, true),
        (.since(epoch: "e", seq: 5), 6, true),
        (.since(epoch: "e", seq: 4), 5, false),
        (.since(epoch: "e", seq: 0), 1, false),
        (.since(epoch: "old", seq: .max), 6, false),
        (.since(epoch: "old", seq: 0), 6, false),
        (.last(0), nil, true), (.last(1), 10, true), (.last(5), 6, true), (.last(6), 5, false),
        (.last(Int.max), 1, false),
        (.from(epoch: "e", seq: 7), 7, true), (.from(epoch: "e", seq: 11), nil, true),
        (.from(epoch: "e", seq: .max), nil, true), (.from(epoch: "old", seq: 7), 7, false),
    ] as [(ReplayStart, UInt64?, Bool)])
    func replayStartNeverWraps(start: ReplayStart, first: UInt64?, recovered: Bool) {
        let resolved = start.resolve(epoch: "e", seq: 10, firstRetained: 6)
        #expect(resolved.start == first)
        #expect(resolved.recovered == recovered)
    }

    @Test func replayStartOnAnEmptyTopic() {
        #expect(ReplayStart.since(epoch: "e", seq: .max).resolve(epoch: "e", seq: 0, firstRetained: nil) == (nil, false))
        #expect(ReplayStart.last(Int.max).resolve(epoch: "e", seq: 0, firstRetained: nil) == (nil, true))
        #expect(ReplayStart.since(epoch: "x", seq: 3).resolve(epoch: "e", seq: 0, firstRetained: nil) == (nil, false))
    }
}
