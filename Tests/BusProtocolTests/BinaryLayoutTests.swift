import BusProtocol
import Testing

/// Protocol.md "Binary frames", on literal bytes.
struct BinaryLayoutTests {
    func parse(_ bytes: [UInt8]) -> Result<BinaryPublish, RequestError> {
        bytes.withUnsafeBytes { BinaryLayout.parsePublish($0) }
    }

    @Test func publishWithIdParsesToExactRanges() throws {
        let frame: [UInt8] = [0x01, 0x01, 0x02, 0x69, 0x64, 0x00, 0x03, 0x61, 0x2E, 0x62, 0xDE, 0xAD]
        let publish = try parse(frame).get()
        #expect(publish == BinaryPublish(id: 3 ..< 5, topic: 7 ..< 10, payload: 10 ..< 12))
    }

    @Test func publishWithoutIdAndEmptyPayloadParses() throws {
        let frame: [UInt8] = [0x01, 0x00, 0x00, 0x01, 0x74]
        #expect(try parse(frame).get() == BinaryPublish(id: nil, topic: 4 ..< 5, payload: 5 ..< 5))
    }

    @Test func encodePublishWritesTheDocumentedLayout() {
        #expect(BinaryLayout.encodePublish(topic: "a.b", id: "id", payload: [0xDE, 0xAD])
                == [0x01, 0x01, 0x02, 0x69, 0x64, 0x00, 0x03, 0x61, 0x2E, 0x62, 0xDE, 0xAD])
        #expect(BinaryLayout.encodePublish(topic: "t", id: nil, payload: [UInt8]()) == [0x01, 0x00, 0x00, 0x01, 0x74])
    }

    @Test(arguments: [0, 1, 255, 256, 70_000])
    func publishRoundTrips(_ payloadSize: Int) throws {
        let topic = String(repeating: "t", count: 300) + ".météo"
        let payload = (0 ..< payloadSize).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        for id in [nil, "x", "é✓", String(repeating: "i", count: 64)] {
            let frame = BinaryLayout.encodePublish(topic: topic, id: id, payload: payload)
            let publish = try parse(frame).get()
            #expect(publish.id.map { String(decoding: frame[$0], as: UTF8.self) } == id)
            #expect(String(decoding: frame[publish.topic], as: UTF8.self) == topic)
            #expect(Array(frame[publish.payload]) == payload)
        }
    }

    struct Malformed: Sendable, CustomTestStringConvertible {
        var name: String
        var bytes: [UInt8]
        var idReported: Range<Int>? = nil
        var testDescription: String { name }
    }

    static let malformed: [Malformed] = [
        Malformed(name: "empty", bytes: []),
        Malformed(name: "kind only", bytes: [0x01]),
        Malformed(name: "message kind", bytes: [0x02, 0x00, 0x00, 0x01, 0x74]),
        Malformed(name: "kind 0", bytes: [0x00, 0x00, 0x00, 0x01, 0x74]),
        Malformed(name: "reserved flag bit 1", bytes: [0x01, 0x02, 0x00, 0x01, 0x74]),
        Malformed(name: "reserved flag bit 7", bytes: [0x01, 0x81, 0x01, 0x69, 0x00, 0x01, 0x74]),
        Malformed(name: "id flag without length", bytes: [0x01, 0x01]),
        Malformed(name: "id length 0", bytes: [0x01, 0x01, 0x00, 0x00, 0x01, 0x74]),
        Malformed(name: "id length 65", bytes: [0x01, 0x01, 65] + [UInt8](repeating: 0x69, count: 65) + [0x00, 0x01, 0x74]),
        Malformed(name: "id longer than frame", bytes: [0x01, 0x01, 0x05, 0x69, 0x69]),
        Malformed(name: "id not UTF-8", bytes: [0x01, 0x01, 0x01, 0xC3, 0x00, 0x01, 0x74]),
        Malformed(name: "no topic length", bytes: [0x01, 0x00]),
        Malformed(name: "half a topic length", bytes: [0x01, 0x00, 0x00]),
        Malformed(name: "topic length 0", bytes: [0x01, 0x00, 0x00, 0x00, 0xAA]),
        Malformed(name: "topic length 0 after id", bytes: [0x01, 0x01, 0x01, 0x69, 0x00, 0x00], idReported: 3 ..< 4),
        Malformed(name: "topic longer than frame", bytes: [0x01, 0x00, 0x00, 0x03, 0x74, 0x74]),
        Malformed(name: "topic length 65535, short frame", bytes: [0x01, 0x00, 0xFF, 0xFF, 0x74]),
        Malformed(name: "topic longer than frame after id", bytes: [0x01, 0x01, 0x01, 0x69, 0x00, 0x02, 0x74], idReported: 3 ..< 4),
    ]

    @Test(arguments: malformed)
    func malformedHeadersAreBadRequest(_ row: Malformed) {
        guard case .failure(let error) = parse(row.bytes) else { Issue.record("accepted \(hex(row.bytes))"); return }
        #expect(error.code == .badRequest)
        #expect(error.id == row.idReported)
        #expect(error.topic == nil)
        #expect(!error.message.isEmpty)
    }

    @Test func messageHeaderHasTheDocumentedLayout() {
        let size = BinaryLayout.messageHeaderSize(epochLength: 2, topicLength: 3)
        #expect(size == 1 + 1 + 2 + 8 + 2 + 3)
        // One spare byte in front: the header must not need alignment.
        var buffer = [UInt8](repeating: 0xEE, count: size + 2)
        let written = buffer.withUnsafeMutableBytes {
            BinaryLayout.writeMessageHeader(epoch: "e1", seq: 0x0102_0304_0506_0708, topic: "a.b", to: $0.baseAddress! + 1)
        }
        #expect(written == size)
        #expect(buffer == [0xEE, 0x02, 0x02, 0x65, 0x31, 1, 2, 3, 4, 5, 6, 7, 8, 0x00, 0x03, 0x61, 0x2E, 0x62, 0xEE])
    }

    @Test func messageRoundTrips() throws {
        let epoch = "9f3ac2e17b5d4e08", topic = "chat.météo", payload: [UInt8] = [0, 1, 2, 0xFF]
        let size = BinaryLayout.messageHeaderSize(epochLength: epoch.utf8.count, topicLength: topic.utf8.count)
        var frame = [UInt8](repeating: 0, count: size)
        _ = frame.withUnsafeMutableBytes { BinaryLayout.writeMessageHeader(epoch: epoch, seq: 42, topic: topic, to: $0.baseAddress!) }
        frame += payload
        let message = try #require(frame.withUnsafeBytes { BinaryLayout.parseMessage($0) })
        #expect(message.epoch == epoch)
        #expect(message.seq == 42)
        #expect(message.topic == topic)
        #expect(Array(frame[message.payload]) == payload)
    }

    /// The header is written from the strings' own storage: small (inline) and heap strings,
    /// in either field, give the same bytes as a byte-by-byte layout.
    @Test(arguments: [("e1", "a.b"), ("e1", String(repeating: "long.topic.", count: 30)),
                      (String(repeating: "9f", count: 40), "t"), (String(repeating: "é", count: 100), String(repeating: "ü", count: 200))])
    func messageHeaderOfSmallAndHeapStrings(epoch: String, topic: String) {
        let size = BinaryLayout.messageHeaderSize(epochLength: epoch.utf8.count, topicLength: topic.utf8.count)
        var frame = [UInt8](repeating: 0, count: size)
        let written = frame.withUnsafeMutableBytes { BinaryLayout.writeMessageHeader(epoch: epoch, seq: 7, topic: topic, to: $0.baseAddress!) }
        let topicLength = topic.utf8.count
        let expected = [0x02, UInt8(epoch.utf8.count)] + Array(epoch.utf8) + [0, 0, 0, 0, 0, 0, 0, 7]
            + [UInt8(topicLength >> 8), UInt8(topicLength & 0xFF)] + Array(topic.utf8)
        #expect(written == size)
        #expect(frame == expected)
    }

    @Test func malformedMessagesAreNil() {
        let good: [UInt8] = [0x02, 0x01, 0x65, 0, 0, 0, 0, 0, 0, 0, 1, 0x00, 0x01, 0x74]
        #expect(good.withUnsafeBytes { BinaryLayout.parseMessage($0) } != nil)
        for cut in 0 ..< good.count {
            #expect(Array(good[..<cut]).withUnsafeBytes { BinaryLayout.parseMessage($0) } == nil, "cut at \(cut)")
        }
        var wrongKind = good; wrongKind[0] = 0x01
        var nonASCIIEpoch = good; nonASCIIEpoch[2] = 0xC3
        var badTopic = good; badTopic[13] = 0xFF
        for bytes in [wrongKind, nonASCIIEpoch, badTopic] {
            #expect(bytes.withUnsafeBytes { BinaryLayout.parseMessage($0) } == nil)
        }
    }
}
