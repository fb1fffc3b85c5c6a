/// The binary frame headers of Protocol.md "Binary frames". Integers are big-endian.
///
/// Publish (client → server): kind 0x01, flags (bit 0: an id follows), [id length 1–64, id],
/// topic length (2 bytes), topic, payload. Message (server → client): kind 0x02, epoch length
/// (1 byte), epoch, seq (8 bytes), topic length (2 bytes), topic, payload. A message header
/// is the same for every subscriber, so the server writes it once in front of the payload
/// and shares the bytes.
public enum BinaryLayout {
    /// First byte of a binary publish.
    public static let publishKind: UInt8 = 0x01
    /// First byte of a binary message.
    public static let messageKind: UInt8 = 0x02
    /// Flag bit 0 of a publish: an id follows. The other 7 bits are reserved and must be 0,
    /// so a later version can give them meaning without old servers misreading frames.
    public static let hasIDFlag: UInt8 = 0x01
    /// Longest id, in bytes (Protocol.md, same bound as a JSON string id).
    public static let maxIDLength = 64

    /// Reads a binary publish header. Any malformation is `bad_request` with no id or topic
    /// echoed, except that a well-formed id is reported even if the topic field is bad.
    public static func parsePublish(_ bytes: UnsafeRawBufferPointer) -> Result<BinaryPublish, RequestError> {
        func bad(_ message: String, id: Range<Int>? = nil) -> Result<BinaryPublish, RequestError> {
            .failure(RequestError(code: .badRequest, message: message, id: id))
        }
        let count = bytes.count
        guard count >= 2 else { return bad("binary frame shorter than its header") }
        guard bytes[0] == publishKind else { return bad("unknown binary frame kind \(bytes[0])") }
        let flags = bytes[1]
        guard flags & ~hasIDFlag == 0 else { return bad("reserved flag bits set in binary publish") }
        var index = 2
        var id: Range<Int>?
        if flags & hasIDFlag != 0 {
            guard index < count else { return bad("binary frame shorter than its header") }
            let length = Int(bytes[index])
            index += 1
            guard (1 ... maxIDLength).contains(length) else {
                return bad("binary id length must be 1 to \(maxIDLength)")
            }
            guard count - index >= length else { return bad("binary id longer than the frame") }
            let range = index ..< index + length
            guard String(validating: UnsafeRawBufferPointer(rebasing: bytes[range]), as: UTF8.self) != nil else {
                return bad("binary id is not valid UTF-8")
            }
            id = range
            index += length
        }
        guard count - index >= 2 else { return bad("binary frame shorter than its header", id: id) }
        let topicLength = Int(bytes[index]) << 8 | Int(bytes[index + 1])
        index += 2
        guard topicLength > 0 else { return bad("binary topic is empty", id: id) }
        guard count - index >= topicLength else { return bad("binary topic longer than the frame", id: id) }
        return .success(BinaryPublish(id: id, topic: index ..< index + topicLength,
                                      payload: index + topicLength ..< count))
    }

    /// Builds a binary publish (client side). Preconditions: `id` is 1–64 UTF-8 bytes and
    /// `topic` 1–65535 bytes; check user input before calling.
    public static func encodePublish(topic: String, id: String?, payload: some Collection<UInt8>) -> [UInt8] {
        let topicBytes = Array(topic.utf8)
        precondition((1 ... 0xFFFF).contains(topicBytes.count), "binary publish topic must be 1–65535 bytes")
        var frame: [UInt8] = [publishKind, id == nil ? 0 : hasIDFlag]
        frame.reserveCapacity(5 + maxIDLength + topicBytes.count + payload.count)
        if let id {
            let idBytes = Array(id.utf8)
            precondition((1 ... maxIDLength).contains(idBytes.count), "binary publish id must be 1–64 bytes")
            frame.append(UInt8(idBytes.count))
            frame.append(contentsOf: idBytes)
        }
        frame.append(UInt8(topicBytes.count >> 8))
        frame.append(UInt8(topicBytes.count & 0xFF))
        frame.append(contentsOf: topicBytes)
        frame.append(contentsOf: payload)
        return frame
    }

    /// Bytes of a message header for an epoch and topic of these UTF-8 lengths.
    public static func messageHeaderSize(epochLength: Int, topicLength: Int) -> Int {
        1 + 1 + epochLength + 8 + 2 + topicLength
    }

    /// Writes the binary message header; returns bytes written, which is
    /// `messageHeaderSize(epochLength:topicLength:)`. `destination` must have room for that
    /// many bytes; no alignment is needed. Preconditions: epoch at most 255 bytes, topic at
    /// most 65535 bytes (the header's length fields).
    public static func writeMessageHeader(epoch: String, seq: UInt64, topic: String,
                                          to destination: UnsafeMutableRawPointer) -> Int {
        // The strings' own bytes where they have them (native and small strings, which is
        // every string the server makes): a `var` copy for `withUTF8` retained and released
        // each string, on every published message.
        if let written = epoch.utf8.withContiguousStorageIfAvailable({ epochBytes in
            topic.utf8.withContiguousStorageIfAvailable { topicBytes in
                writeMessageHeader(epoch: UnsafeRawBufferPointer(epochBytes), seq: seq, topic: UnsafeRawBufferPointer(topicBytes),
                                   to: destination)
            }
        }), let written { return written }
        var epoch = epoch, topic = topic
        return epoch.withUTF8 { epochBytes in
            topic.withUTF8 { topicBytes in
                writeMessageHeader(epoch: UnsafeRawBufferPointer(epochBytes), seq: seq, topic: UnsafeRawBufferPointer(topicBytes),
                                   to: destination)
            }
        }
    }

    private static func writeMessageHeader(epoch epochBytes: UnsafeRawBufferPointer, seq: UInt64, topic topicBytes: UnsafeRawBufferPointer,
                                           to destination: UnsafeMutableRawPointer) -> Int {
        precondition(epochBytes.count <= 0xFF, "epoch longer than 255 bytes")
        precondition(topicBytes.count <= 0xFFFF, "topic longer than 65535 bytes")
        var index = 0
        destination.storeBytes(of: messageKind, toByteOffset: index, as: UInt8.self)
        destination.storeBytes(of: UInt8(epochBytes.count), toByteOffset: index + 1, as: UInt8.self)
        index += 2
        if let base = epochBytes.baseAddress {
            (destination + index).copyMemory(from: base, byteCount: epochBytes.count)
        }
        index += epochBytes.count
        destination.storeBytes(of: seq.bigEndian, toByteOffset: index, as: UInt64.self)
        index += 8
        destination.storeBytes(of: UInt16(topicBytes.count).bigEndian, toByteOffset: index, as: UInt16.self)
        index += 2
        if let base = topicBytes.baseAddress {
            (destination + index).copyMemory(from: base, byteCount: topicBytes.count)
        }
        return index + topicBytes.count
    }

    /// Reads a binary message (client side). Nil when the header is malformed: wrong kind,
    /// too short, a non-ASCII epoch or a topic that is not UTF-8.
    public static func parseMessage(_ bytes: UnsafeRawBufferPointer) -> (epoch: String, seq: UInt64, topic: String, payload: Range<Int>)? {
        let count = bytes.count
        guard count >= 2, bytes[0] == messageKind else { return nil }
        let epochLength = Int(bytes[1])
        var index = 2
        guard count - index >= epochLength + 10 else { return nil }
        let epochBytes = UnsafeRawBufferPointer(rebasing: bytes[index ..< index + epochLength])
        guard epochBytes.allSatisfy({ $0 < 0x80 }) else { return nil }
        index += epochLength
        let seq = UInt64(bigEndian: bytes.loadUnaligned(fromByteOffset: index, as: UInt64.self))
        index += 8
        let topicLength = Int(bytes[index]) << 8 | Int(bytes[index + 1])
        index += 2
        guard count - index >= topicLength,
              let topic = String(validating: UnsafeRawBufferPointer(rebasing: bytes[index ..< index + topicLength]),
                                 as: UTF8.self) else { return nil }
        return (String(decoding: epochBytes, as: UTF8.self), seq, topic, index + topicLength ..< count)
    }
}
