import Topics

/// The byte layout of history segment files, without I/O: `encode` appends a record to a
/// buffer, `decode` reads one from the front of a buffer and says whether it is whole, torn
/// (the buffer ends inside it) or invalid. Segment files are hostile input at start-up (a
/// power loss tears the tail, a disk flips bits, anyone may edit them): lengths are checked
/// against their bounds before anything is allocated, every record carries a CRC-32C of its
/// body, and topics go through `TopicName`'s one validator.
///
/// A segment is a 16-byte header then records, all integers little-endian:
///
///     header:  "bushist\n"  u32 version (1)  u32 reserved (0)
///     record:  u32 bodyLength  u32 crc32c(body)  body
///     body:    u8 kind  u8 epochLength  u16 topicLength  u64 seq  u64 wallNanos  u64 offset
///              topic  epoch  payload
public enum RecordCodec {
    public static let magic: [UInt8] = Array("bushist\n".utf8)
    public static let version: UInt32 = 1
    public static let headerSize = 16
    /// Length and checksum before the body.
    public static let recordPrefix = 8
    /// The body's fixed fields before topic, epoch and payload.
    public static let bodyFixed = 28
    /// Epochs are 16 hex digits today; the bound leaves room without letting a corrupt byte
    /// claim much.
    public static let maxEpochLength = 64

    public static func header() -> [UInt8] {
        var out = magic
        put(version, into: &out)
        put(UInt32(0), into: &out)
        return out
    }

    /// What a segment's first bytes say.
    public enum Header: Equatable, Sendable {
        case valid
        /// Shorter than a header, or all zero: a file created and never (durably) written.
        case empty
        /// Not a bus history segment.
        case foreign
        /// A segment of a later format: never cut, the broker refuses to start.
        case unsupported(version: UInt32)
    }

    public static func checkHeader(_ bytes: UnsafeRawBufferPointer) -> Header {
        if bytes.count < headerSize || bytes.prefix(headerSize).allSatisfy({ $0 == 0 }) { return .empty }
        guard bytes.prefix(magic.count).elementsEqual(magic) else { return .foreign }
        let version = load(UInt32.self, bytes, at: magic.count)
        return version == Self.version ? .valid : .unsupported(version: version)
    }

    /// The bytes a record takes on disk.
    public static func encodedSize(_ message: StoredMessage) -> Int {
        recordPrefix + bodyFixed + message.topic.utf8Count + message.epoch.utf8.count + message.payload.count
    }

    /// Appends `message`'s record to `out`.
    public static func encode(_ message: StoredMessage, into out: inout [UInt8]) {
        message.payload.withUnsafeBytes {
            encode(topic: message.topic, epoch: message.epoch, seq: message.seq, wallNanos: message.wallNanos,
                   offset: message.offset, kind: message.kind, payload: $0, into: &out)
        }
    }

    /// Appends a record built from its fields (the owner loop's path: no `StoredMessage`, no
    /// payload copy besides the one into `out`).
    public static func encode(topic: TopicName, epoch: String, seq: UInt64, wallNanos: UInt64, offset: UInt64,
                              kind: StoredMessage.Kind, payload: UnsafeRawBufferPointer, into out: inout [UInt8]) {
        let epochBytes = epoch.utf8.count
        let bodyLength = bodyFixed + topic.utf8Count + epochBytes + payload.count
        let start = out.count
        put(UInt32(bodyLength), into: &out)
        put(UInt32(0), into: &out)  // the checksum, once the body is in
        out.append(kind.rawValue)
        out.append(UInt8(epochBytes))
        put(UInt16(topic.utf8Count), into: &out)
        put(seq, into: &out)
        put(wallNanos, into: &out)
        put(offset, into: &out)
        out.append(contentsOf: topic.string.utf8)
        out.append(contentsOf: epoch.utf8)
        out.append(contentsOf: payload)
        let crc = out.withUnsafeBytes { CRC32C.checksum(UnsafeRawBufferPointer(rebasing: $0[(start + recordPrefix)...])) }
        out.withUnsafeMutableBytes { $0.storeBytes(of: crc.littleEndian, toByteOffset: start + 4, as: UInt32.self) }
    }

    /// Why a record was refused. Every case cuts the segment at that record.
    public enum RecordError: Error, Equatable, Sendable {
        /// The body length is below the fixed fields or above the largest record allowed:
        /// refused before anything is allocated.
        case lengthOutOfRange(UInt32)
        case checksumMismatch
        case unknownKind(UInt8)
        /// The lengths inside the body do not add up to it.
        case inconsistentLengths
        case invalidEpoch
        case invalidTopic(TopicError)
        /// seq 0 on a message (never issued), or not above the topic's previous seq in the same epoch.
        case seqNotIncreasing(UInt64)
    }

    public enum Decoded: Equatable, Sendable {
        /// A valid record and the bytes it took.
        case record(StoredMessage, length: Int)
        /// The buffer ends inside the record: at the end of a file, a torn tail.
        case incomplete
        case invalid(RecordError)
    }

    /// Decodes the record at the front of `bytes`. `maxBodyLength` bounds what a length field
    /// may claim (the largest payload plus topic and epoch bounds); `limits` are the topics'.
    public static func decode(_ bytes: UnsafeRawBufferPointer, maxBodyLength: Int, limits: TopicLimits) -> Decoded {
        guard bytes.count >= recordPrefix else { return .incomplete }
        let bodyLength = load(UInt32.self, bytes, at: 0)
        guard Int(bodyLength) >= bodyFixed, Int(bodyLength) <= maxBodyLength else { return .invalid(.lengthOutOfRange(bodyLength)) }
        let total = recordPrefix + Int(bodyLength)
        guard bytes.count >= total else { return .incomplete }
        let body = UnsafeRawBufferPointer(rebasing: bytes[recordPrefix..<total])
        guard CRC32C.checksum(body) == load(UInt32.self, bytes, at: 4) else { return .invalid(.checksumMismatch) }
        guard let kind = StoredMessage.Kind(rawValue: body[0]) else { return .invalid(.unknownKind(body[0])) }
        let epochLength = Int(body[1])
        let topicLength = Int(load(UInt16.self, body, at: 2))
        guard bodyFixed + topicLength + epochLength <= body.count else { return .invalid(.inconsistentLengths) }
        if kind == .position && bodyFixed + topicLength + epochLength != body.count { return .invalid(.inconsistentLengths) }
        let seq = load(UInt64.self, body, at: 4)
        // A position record of seq 0 keeps the epoch of a topic created but not yet published to.
        guard seq > 0 || kind == .position else { return .invalid(.seqNotIncreasing(0)) }
        let topicStart = bodyFixed
        let epochStart = topicStart + topicLength
        let payloadStart = epochStart + epochLength
        let topic: TopicName
        do { topic = try TopicName(validating: UnsafeRawBufferPointer(rebasing: body[topicStart..<epochStart]), limits: limits) } catch {
            return .invalid(.invalidTopic(error))
        }
        let epochBytes = body[epochStart..<payloadStart]
        guard epochLength > 0, epochLength <= maxEpochLength,
              epochBytes.allSatisfy({ (0x30...0x39).contains($0) || (0x61...0x7A).contains($0) || (0x41...0x5A).contains($0) }) else {
            return .invalid(.invalidEpoch)
        }
        let message = StoredMessage(topic: topic, epoch: String(decoding: epochBytes, as: UTF8.self), seq: seq,
                                    wallNanos: load(UInt64.self, body, at: 12), offset: load(UInt64.self, body, at: 20),
                                    kind: kind, payload: Array(body[payloadStart...]))
        return .record(message, length: total)
    }

    static func put<T: FixedWidthInteger>(_ value: T, into out: inout [UInt8]) {
        withUnsafeBytes(of: value.littleEndian) { out.append(contentsOf: $0) }
    }

    static func load<T: FixedWidthInteger>(_: T.Type, _ bytes: UnsafeRawBufferPointer, at offset: Int) -> T {
        T(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: T.self))
    }
}
