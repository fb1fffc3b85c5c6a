@testable import BusClient
import BusProtocol
import Testing
import Topics

struct ReconnectPolicyTests {
    @Test func dropsWaitAJitteredWindowThatDoublesUpToTheCap() {
        var policy = ReconnectPolicy()
        #expect(policy.delay(after: .dropped, at: 0) { 0.999 } < 2)
        #expect(policy.delay(after: .dropped, at: 1) { 0.999 } < 4)
        #expect(policy.delay(after: .dropped, at: 2) { 0.5 } == 4)
        for step in 3..<20 { _ = policy.delay(after: .dropped, at: Double(step)) { 0.5 } }
        #expect(policy.delay(after: .dropped, at: 30) { 0.999 } <= 30)
        #expect(policy.delay(after: .dropped, at: 31) { 0 } == 0, "full jitter: anywhere in the window")
    }

    @Test func attemptsResetOnlyAfterAStablePeriod() {
        var policy = ReconnectPolicy()
        for step in 0..<3 { _ = policy.delay(after: .dropped, at: Double(step)) { 0.5 } }
        policy.connected(at: 10)
        #expect(policy.delay(after: .dropped, at: 12) { 0.5 } == 8, "up for 2 s only: still backing off (window 16 s)")
        policy.connected(at: 20)
        #expect(policy.delay(after: .dropped, at: 40) { 0.5 } == 1, "up for 20 s: back to the first window")
    }

    @Test func aSlowConsumerDropResumesAtOnceButNotTwiceInARow() {
        var policy = ReconnectPolicy()
        #expect(policy.delay(after: .slowConsumer, at: 0) { 0.5 } == 0)
        policy.connected(at: 0.1)
        #expect(policy.delay(after: .slowConsumer, at: 1) { 0.5 } > 0)
        policy.connected(at: 1.1)
        #expect(policy.delay(after: .slowConsumer, at: 60) { 0.5 } == 0, "a while later: at once again")
    }

    @Test func anOverloadedServerIsGivenTimeAndItsRetryAfter() {
        var policy = ReconnectPolicy()
        #expect(policy.delay(after: .overloaded(retryAfter: nil), at: 0) { 0 } >= 5)
        #expect(policy.delay(after: .overloaded(retryAfter: 120), at: 1) { 0 } == 120)
    }
}

struct ResumeTrackerTests {
    @Test func aTopicResumesFromItsLastMessageAndDropsDuplicates() throws {
        var tracker = ResumeTracker(pattern: try TopicPattern("a.b"), start: .now)
        #expect(!tracker.resumes)
        tracker.started(epoch: "e", seq: 4)
        #expect(tracker.accept(topic: "a.b", epoch: "e", seq: 5) == .deliver)
        #expect(tracker.accept(topic: "a.b", epoch: "e", seq: 5) == .duplicate)
        #expect(tracker.accept(topic: "a.b", epoch: "e", seq: 3) == .duplicate)
        #expect(tracker.accept(topic: "a.b", epoch: "f", seq: 1) == .deliverAfterEpochChange)
        #expect(String(decoding: tracker.request(id: "s1"), as: UTF8.self)
            == #"{"type":"subscribe","id":"s1","topic":"a.b","since":{"epoch":"f","seq":1}}"#)
    }

    @Test func aPatternResumesFromItsCursorAndThePositionsSinceItsCheckpoint() throws {
        var tracker = ResumeTracker(pattern: try TopicPattern("a.>"), start: .now)
        #expect(String(decoding: tracker.request(id: "s1"), as: UTF8.self) == #"{"type":"subscribe","id":"s1","topic":"a.>","checkpoints":true}"#)
        tracker.follow(cursor: "0123456789abcdef.1.2", checkpoint: false)
        _ = tracker.accept(topic: "a.x", epoch: "e", seq: 1)
        tracker.follow(cursor: "0123456789abcdef.3.2", checkpoint: true)
        _ = tracker.accept(topic: "a.y", epoch: "e", seq: 7)
        #expect(String(decoding: tracker.request(id: "s1"), as: UTF8.self)
            == #"{"type":"subscribe","id":"s1","topic":"a.>","since":{"cursor":"0123456789abcdef.3.2","positions":[{"topic":"a.y","epoch":"e","seq":7}]}}"#)
        #expect(tracker.accept(topic: "a.x", epoch: "e", seq: 1) == .duplicate, "still remembered after the checkpoint")
    }

    @Test func lastAsksForTheNewestAndIsAResume() throws {
        let tracker = ResumeTracker(pattern: try TopicPattern("a.>"), start: .last(5))
        #expect(tracker.resumes)
        #expect(String(decoding: tracker.request(id: "s2"), as: UTF8.self) == #"{"type":"subscribe","id":"s2","topic":"a.>","last":5}"#)
    }
}
