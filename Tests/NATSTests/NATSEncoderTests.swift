import NATS
import Testing

struct NATSEncoderTests {
    @Test func connectAsksForNoEchoAndQuietMode() {
        let text = String(decoding: NATSEncoder.connect(name: "node \"a\""), as: UTF8.self)
        #expect(text.hasPrefix("CONNECT {") && text.hasSuffix("}\r\n"))
        #expect(text.contains("\"verbose\":false"))
        #expect(text.contains("\"pedantic\":false"))
        #expect(text.contains("\"echo\":false"))
        #expect(text.contains("\"headers\":true"))
        #expect(text.contains("\"name\":\"node \\\"a\\\"\""))
    }

    @Test func encodesOperations() {
        #expect(NATSEncoder.publish(subject: "bus.a", payload: Array("hi".utf8)) == Array("PUB bus.a 2\r\nhi\r\n".utf8))
        #expect(NATSEncoder.publish(subject: "bus.a", payload: []) == Array("PUB bus.a 0\r\n\r\n".utf8))
        #expect(NATSEncoder.subscribe(subject: "bus.>", sid: 12) == Array("SUB bus.> 12\r\n".utf8))
        #expect(NATSEncoder.unsubscribe(sid: 12) == Array("UNSUB 12\r\n".utf8))
        #expect(NATSEncoder.ping == Array("PING\r\n".utf8))
        #expect(NATSEncoder.pong == Array("PONG\r\n".utf8))
    }

    @Test func encodesHeaderPublishWithSizes() {
        let bytes = NATSEncoder.publish(subject: "bus.b", headers: [("Bus-Kind", "binary")], payload: [0, 1, 2])
        let header = "NATS/1.0\r\nBus-Kind: binary\r\n\r\n"
        #expect(bytes == Array("HPUB bus.b \(header.utf8.count) \(header.utf8.count + 3)\r\n\(header)".utf8) + [0, 1, 2, 13, 10])
    }

    /// What we send is what a server would echo back: our encoder's HPUB body parses as an HMSG.
    @Test func headerPublishRoundTripsThroughTheParser() throws {
        let pub = NATSEncoder.publish(subject: "bus.b", headers: [("Bus-Kind", "binary")], payload: [9, 13, 10])
        let asMessage = Array("H".utf8) + Array("MSG bus.b 5 ".utf8) + pub.drop { $0 != UInt8(ascii: " ") }.dropFirst().drop { $0 != UInt8(ascii: " ") }.dropFirst()
        var parser = NATSParser()
        let ops = try parser.feed(asMessage)
        guard case .message(let message) = ops.first else { Issue.record("no message"); return }
        #expect(message.payload == [9, 13, 10])
        #expect(SubjectMapping.isBinary(headers: message.headers))
    }
}

struct SubjectMappingTests {
    @Test(arguments: [("chat.room1", "bus.chat.room1"), ("chat.*", "bus.chat.*"), (">", "bus.>"), ("a.*.c.>", "bus.a.*.c.>")])
    func mapsTopicsAndPatternsUnderThePrefix(_ topic: String, _ subject: String) {
        let mapping = SubjectMapping()
        #expect(mapping.subject(for: topic) == subject)
        #expect(mapping.topic(for: subject) == topic)
    }

    @Test func ignoresSubjectsOutsideThePrefix() {
        let mapping = SubjectMapping(prefix: "bus")
        #expect(mapping.prefix == "bus.")
        #expect(mapping.topic(for: "_INBOX.x") == nil)
        #expect(mapping.topic(for: "bus.") == nil)
        #expect(mapping.topic(for: "busx.a") == nil)
    }

    @Test func mapsSubjectBytesWithoutRepairingThem() {
        let mapping = SubjectMapping()
        #expect(mapping.topic(for: Array("bus.a.".utf8) + [0xFF]).map(Array.init) == Array("a.".utf8) + [0xFF])
        #expect(mapping.topic(for: Array("bus.".utf8)) == nil)
        #expect(mapping.topic(for: Array("busx.a".utf8)) == nil)
        #expect(mapping.topic(for: [0xFF]) == nil)
    }

    @Test func readsTheKindHeader() {
        #expect(SubjectMapping.isBinary(headers: SubjectMapping.binaryHeaderBlock))
        #expect(SubjectMapping.isBinary(headers: Array("NATS/1.0\r\nbus-kind:  BINARY\r\n\r\n".utf8)))
        #expect(!SubjectMapping.isBinary(headers: Array("NATS/1.0\r\nOther: binary\r\n\r\n".utf8)))
        #expect(!SubjectMapping.isBinary(headers: nil))
    }
}

struct NATSServerURLTests {
    @Test(arguments: [("nats://127.0.0.1:4223", "127.0.0.1", UInt16(4223)), ("nats://localhost", "localhost", 4222),
                      ("nats://[::1]:5000/", "::1", 5000)])
    func parses(_ text: String, _ host: String, _ port: UInt16) {
        #expect(NATSServerURL(text) == NATSServerURL(host: host, port: port))
    }

    @Test(arguments: ["127.0.0.1:4222", "nats://", "nats://h:0", "nats://h:x", "nats://u:p@h:4222", "tls://h:4222",
                      "nats://h:+4222", "nats://[::1]:+4222", "nats://h:", "nats://h:65536"])
    func rejects(_ text: String) { #expect(NATSServerURL(text) == nil) }
}

extension NATSServerURL {
    init?(host: String, port: UInt16) { self.init(host.contains(":") ? "nats://[\(host)]:\(port)" : "nats://\(host):\(port)") }
}
