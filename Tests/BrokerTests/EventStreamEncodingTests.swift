import BusProtocol
import Testing
import Topics
@testable import Broker

/// The event-stream codec on bytes, and the id seam on values (no sockets).
struct EventStreamEncodingTests {
    static func text(_ bytes: OutboundBytes) -> String { bytes.withUnsafeBytes { String(decoding: $0, as: UTF8.self) } }

    /// One `data:` line per line, whatever the line break (the parser splits at CRLF, CR and
    /// LF alike): a raw break left in would end the field, a blank line would dispatch.
    @Test(arguments: [
        ("{}", "data: {}\n"),
        ("{\"a\":\n1}", "data: {\"a\":\ndata: 1}\n"),
        ("{\"a\":\r\n1}", "data: {\"a\":\ndata: 1}\n"),
        ("{\"a\":\r1}", "data: {\"a\":\ndata: 1}\n"),
        ("[\n\n]", "data: [\ndata: \ndata: ]\n"),
        ("\r\n", "data: \ndata: \n"),
        ("", "data: \n"),
    ])
    func dataLinesSplitAtEveryLineBreak(_ input: String, _ expected: String) {
        #expect(Self.text(EventStreamEncoding.dataLines(Array(input.utf8))) == expected)
    }

    @Test func jsonAndBinaryMessagesBecomeTheWebSocketEnvelope() throws {
        let topic = try TopicName("a.b")
        let position = TopicPosition(epoch: "e1", seq: 7)
        let json = Array("{\"x\":\n2}".utf8)
        let frame = json.withUnsafeBytes { DeliveryFrame.make(kind: .json, topic: topic, position: position, payload: $0, arrival: 0) }
        #expect(Self.text(EventStreamEncoding.dataLines(of: frame))
                == "data: {\"type\":\"message\",\"topic\":\"a.b\",\"epoch\":\"e1\",\"seq\":7,\"data\":{\"x\":\ndata: 2}}\n")
        let bytes: [UInt8] = [0, 0xFF, 10, 13]
        let binary = bytes.withUnsafeBytes { DeliveryFrame.make(kind: .binary, topic: topic, position: position, payload: $0, arrival: 0) }
        let encoded = EventStreamEncoding.dataLines(of: binary)
        #expect(Self.text(encoded) == "data: {\"type\":\"message\",\"topic\":\"a.b\",\"epoch\":\"e1\",\"seq\":7,\"binary\":\"AP8KDQ==\"}\n")
        #expect(encoded.stamp?.position.seq == 7, "stamped: a dropped stream names what it lost")
        // Made once per message, then shared.
        let first = frame.encoding(EventStreamEncoding.key) { EventStreamEncoding.dataLines(of: frame) }
        let second = frame.encoding(EventStreamEncoding.key) { Issue.record("made twice"); return first }
        #expect(first === second)
    }

    @Test func namedEventsAndTails() {
        #expect(EventStreamEncoding.event("recovered", id: nil, data: Array("{\"recovered\":false}".utf8))
                == Array("event: recovered\ndata: {\"recovered\":false}\n\n".utf8))
        #expect(EventStreamEncoding.event("x", id: "t:e:1", data: Array("1".utf8)) == Array("event: x\nid: t:e:1\ndata: 1\n\n".utf8))
        #expect(Self.text(EventStreamEncoding.tail(id: "t:e:1")) == "id: t:e:1\n\n")
        #expect(EventStreamEncoding.retry(milliseconds: 1500) == Array("retry: 1500\n\n".utf8))
    }

    @Test(arguments: [("t:e:1", true), ("", true), ("a\u{0}b", false), ("a\nb", false), ("a\rb", false), ("é", false),
                      (String(repeating: "x", count: 256), true), (String(repeating: "x", count: 257), false)])
    func idsArePrintableASCIIUpTo256Bytes(_ id: String, _ valid: Bool) {
        #expect(EventStreamEncoding.isValidID(id.utf8) == valid)
    }

    // MARK: the seam

    static func stamp(_ topic: String, _ epoch: String, _ seq: UInt64) -> DeliveryStamp {
        DeliveryStamp(topic: try! TopicName(topic), position: TopicPosition(epoch: epoch, seq: seq), kind: .json, payload: 0..<0, arrival: 0)
    }

    @Test func literalStreamsNameOnePositionPerTopic() throws {
        var position = EventStreamPosition(patterns: [try TopicPattern("a"), try TopicPattern("b")])
        #expect(position.id == "t:-,-")
        position.settle(try TopicPattern("a"), at: TopicPosition(epoch: "ea", seq: 4))
        #expect(position.advance(past: Self.stamp("b", "eb", 1)) == "t:ea:4,eb:1")
        // An ack after messages above it does not move a topic back.
        position.settle(try TopicPattern("b"), at: TopicPosition(epoch: "eb", seq: 0))
        #expect(position.advance(past: Self.stamp("a", "ea", 5)) == "t:ea:5,eb:1")
        position.rewind(before: [Self.stamp("a", "ea", 5), Self.stamp("b", "eb", 3), Self.stamp("b", "eb", 2)])
        #expect(position.id == "t:ea:4,eb:1")
    }

    @Test func plansFollowTheRequest() throws {
        let patterns = [try TopicPattern("a"), try TopicPattern("b")]
        var position = EventStreamPosition(patterns: patterns)
        let resumed = position.plan(for: .id("t:ea:4,-"))
        #expect(resumed.refused == nil && resumed.resuming)
        #expect(resumed.starts.map(\.from) == [.since(epoch: "ea", seq: 4), .since(epoch: "", seq: 0)])
        #expect(position.id == "t:ea:4,-", "until a topic moves, the stream names the position it came back with")
        #expect(position.plan(for: .last(3)).starts.map(\.from) == [.last(3), .last(3)])
        #expect(position.plan(for: .none).starts.map(\.from) == [nil, nil])
        for foreign in ["t:ea:4", "t:ea:x,eb:1", "x:ea:4,eb:1", "t:ea:4,eb:1,ec:2", "live"] {
            let plan = position.plan(for: .id(foreign))
            #expect(plan.refused != nil && plan.starts.allSatisfy { $0.from == nil }, "\(foreign)")
        }
        var wild = EventStreamPosition(patterns: [try TopicPattern("a.>")])
        #expect(wild.isLiveOnly)
        #expect(wild.plan(for: .last(1)).refused == nil && wild.plan(for: .last(1)).last == 1 && wild.plan(for: .none).refused == nil)
        #expect(wild.plan(for: .id("0123456789abcdef.1.2")).cursor == Cursor(epoch: "0123456789abcdef", offsets: [1, 2]))
        #expect(wild.plan(for: .id("t:ea:4")).refused != nil, "a topic stream's id is not a cursor")
    }
}
