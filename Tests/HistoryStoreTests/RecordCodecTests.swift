import Testing
import Topics
@testable import HistoryStore

@Suite struct CRC32CTests {
    /// RFC 3720 appendix B.4 test vectors, and the common "123456789" check value.
    @Test func matchesPublishedVectors() {
        #expect(CRC32C.checksum(Array("123456789".utf8)) == 0xE306_9283)
        #expect(CRC32C.checksum([UInt8](repeating: 0, count: 32)) == 0x8A91_36AA)
        #expect(CRC32C.checksum([UInt8](repeating: 0xFF, count: 32)) == 0x62A8_AB43)
        #expect(CRC32C.checksum(Array(0..<32)) == 0x46DD_794E)
    }

    /// The sliced loop against the byte loop, for every length up to 64 at every alignment
    /// (as gorilla checks its word-wise masking against a byte loop).
    @Test func slicedAgreesWithTheByteLoopAtEveryLengthAndAlignment() {
        var seed: UInt64 = 0x9E37_79B9_7F4A_7C15
        let bytes: [UInt8] = (0..<80).map { _ in
            seed = seed &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return UInt8(truncatingIfNeeded: seed >> 56)
        }
        bytes.withUnsafeBytes { raw in
            for start in 0..<8 {
                for length in 0...64 {
                    let slice = UnsafeRawBufferPointer(rebasing: raw[start..<(start + length)])
                    #expect(CRC32C.checksum(slice) == CRC32C.bytewise(slice), "start \(start) length \(length)")
                    #expect(CRC32C.checksum(slice, continuing: 0x1234_5678) == CRC32C.bytewise(slice, continuing: 0x1234_5678))
                }
            }
        }
    }

    @Test func continuingEqualsOneShot() {
        let bytes: [UInt8] = Array("hello, durable history".utf8)
        let first = bytes.withUnsafeBytes { CRC32C.checksum(UnsafeRawBufferPointer(rebasing: $0[0..<7])) }
        let both = bytes.withUnsafeBytes { CRC32C.checksum(UnsafeRawBufferPointer(rebasing: $0[7...]), continuing: first) }
        #expect(both == CRC32C.checksum(bytes))
    }
}

@Suite struct RecordCodecTests {
    static let topic = try! TopicName("chat.room1")
    static func message(seq: UInt64 = 1, epoch: String = "00aa11bb22cc33dd", kind: StoredMessage.Kind = .json,
                        payload: [UInt8] = Array(#"{"n":1}"#.utf8), topic: TopicName = topic, wall: UInt64 = 1_700_000_000_000_000_000) -> StoredMessage {
        StoredMessage(topic: topic, epoch: epoch, seq: seq, wallNanos: wall, offset: 42, kind: kind, payload: payload)
    }
    static func decode(_ bytes: [UInt8], max: Int = 1 << 20) -> RecordCodec.Decoded {
        bytes.withUnsafeBytes { RecordCodec.decode($0, maxBodyLength: max, limits: .default) }
    }

    @Test(arguments: [StoredMessage.Kind.json, .binary, .position])
    func roundTrips(kind: StoredMessage.Kind) {
        let message = Self.message(kind: kind, payload: kind == .position ? [] : [0, 1, 2, 0xFF])
        var bytes: [UInt8] = []
        RecordCodec.encode(message, into: &bytes)
        #expect(bytes.count == RecordCodec.encodedSize(message))
        #expect(Self.decode(bytes) == .record(message, length: bytes.count))
    }

    /// The layout of Protocol-independent bytes, pinned: a change of format needs a new version.
    @Test func encodesTheDocumentedLayout() {
        var bytes: [UInt8] = []
        RecordCodec.encode(StoredMessage(topic: try! TopicName("a"), epoch: "e", seq: 2, wallNanos: 3, offset: 4, kind: .binary, payload: [9]),
                           into: &bytes)
        let body: [UInt8] = [1, 1, 1, 0] + [2, 0, 0, 0, 0, 0, 0, 0] + [3, 0, 0, 0, 0, 0, 0, 0] + [4, 0, 0, 0, 0, 0, 0, 0]
            + [0x61, 0x65, 9]
        let crc = CRC32C.checksum(body)
        #expect(bytes == [31, 0, 0, 0] + [UInt8(crc & 0xFF), UInt8(crc >> 8 & 0xFF), UInt8(crc >> 16 & 0xFF), UInt8(crc >> 24)] + body)
        #expect(RecordCodec.header() == Array("bushist\n".utf8) + [1, 0, 0, 0, 0, 0, 0, 0])
    }

    /// Every proper prefix of a record is torn, never a record nor an error (except when the
    /// length field itself is whole and out of range, which it is not here).
    @Test func everyPrefixIsIncomplete() {
        var bytes: [UInt8] = []
        RecordCodec.encode(Self.message(), into: &bytes)
        for length in 0..<bytes.count { #expect(Self.decode(Array(bytes[0..<length])) == .incomplete, "prefix \(length)") }
    }

    @Test func everyFlippedBitIsRefused() {
        var bytes: [UInt8] = []
        RecordCodec.encode(Self.message(), into: &bytes)
        for index in bytes.indices {
            for bit in 0..<8 {
                var broken = bytes
                broken[index] ^= 1 << bit
                switch Self.decode(broken) {
                case .record: Issue.record("byte \(index) bit \(bit) decoded")
                case .incomplete, .invalid: break
                }
            }
        }
    }

    @Test func hugeLengthIsRefusedBeforeAllocating() {
        let bytes: [UInt8] = [0xFF, 0xFF, 0xFF, 0x7F, 0, 0, 0, 0]
        #expect(Self.decode(bytes) == .invalid(.lengthOutOfRange(0x7FFF_FFFF)))
        #expect(Self.decode([3, 0, 0, 0, 0, 0, 0, 0]) == .invalid(.lengthOutOfRange(3)))
        var record: [UInt8] = []
        RecordCodec.encode(Self.message(payload: [UInt8](repeating: 1, count: 100)), into: &record)
        #expect(Self.decode(record, max: 100) == .invalid(.lengthOutOfRange(UInt32(record.count - 8))))
    }

    @Test func badChecksumIsRefused() {
        var bytes: [UInt8] = []
        RecordCodec.encode(Self.message(), into: &bytes)
        bytes[5] ^= 0x01
        #expect(Self.decode(bytes) == .invalid(.checksumMismatch))
    }

    /// A record whose checksum is right but whose fields are not (written by something else).
    static func forged(kind: UInt8 = 0, topic: [UInt8] = Array("a.b".utf8), epoch: [UInt8] = Array("ep".utf8), seq: UInt64 = 1,
                       topicLength: UInt16? = nil) -> [UInt8] {
        var body: [UInt8] = [kind, UInt8(epoch.count)]
        RecordCodec.put(topicLength ?? UInt16(topic.count), into: &body)
        RecordCodec.put(seq, into: &body)
        RecordCodec.put(UInt64(0), into: &body)
        RecordCodec.put(UInt64(0), into: &body)
        body += topic + epoch + [0x31]
        var out: [UInt8] = []
        RecordCodec.put(UInt32(body.count), into: &out)
        RecordCodec.put(CRC32C.checksum(body), into: &out)
        return out + body
    }

    @Test func badFieldsBehindAGoodChecksumAreRefused() {
        #expect(Self.decode(Self.forged()) != .invalid(.checksumMismatch))
        if case .record = Self.decode(Self.forged()) {} else { Issue.record("the forged baseline should decode") }
        #expect(Self.decode(Self.forged(topic: Array("a..b".utf8))) == .invalid(.invalidTopic(.emptySegment)))
        #expect(Self.decode(Self.forged(topic: Array("a.*".utf8))) == .invalid(.invalidTopic(.wildcardInTopic)))
        #expect(Self.decode(Self.forged(topic: [0x61, 0xFF])) == .invalid(.invalidTopic(.invalidUTF8)))
        #expect(Self.decode(Self.forged(epoch: Array("e\n".utf8))) == .invalid(.invalidEpoch))
        #expect(Self.decode(Self.forged(epoch: [])) == .invalid(.invalidEpoch))
        #expect(Self.decode(Self.forged(kind: 7)) == .invalid(.unknownKind(7)))
        #expect(Self.decode(Self.forged(seq: 0)) == .invalid(.seqNotIncreasing(0)))
        #expect(Self.decode(Self.forged(topicLength: 60_000)) == .invalid(.inconsistentLengths))
        #expect(Self.decode(Self.forged(kind: 2)) == .invalid(.inconsistentLengths), "a position record carries no payload")
    }

    @Test func headerStates() {
        func check(_ bytes: [UInt8]) -> RecordCodec.Header { bytes.withUnsafeBytes { RecordCodec.checkHeader($0) } }
        #expect(check(RecordCodec.header()) == .valid)
        #expect(check([]) == .empty)
        #expect(check(Array(RecordCodec.header().prefix(9))) == .empty)
        #expect(check([UInt8](repeating: 0, count: 16)) == .empty)
        #expect(check(Array("not a history!!!".utf8)) == .foreign)
        var later = RecordCodec.header()
        later[8] = 2
        #expect(check(later) == .unsupported(version: 2))
    }
}

@Suite struct StoreMetaTests {
    @Test func roundTripsAndRefusesDamage() {
        let meta = StoreMeta(serverEpoch: 0x0123_4567_89AB_CDEF, loopCount: 3, durability: 1, state: .clean, bootID: "abc-123")
        let bytes = meta.encode()
        #expect(bytes.count == StoreMeta.size)
        #expect(StoreMeta(decoding: bytes) == meta)
        for index in [0, 12, 25, 100, 511] {
            var broken = bytes
            broken[index] ^= 0x10
            #expect(StoreMeta(decoding: broken) == nil, "byte \(index)")
        }
        #expect(StoreMeta(decoding: Array(bytes.prefix(300))) == nil)
    }
}
