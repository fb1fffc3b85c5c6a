import BusProtocol
import Frames

/// The messages the benchmark publishes and how it reads them back without allocating.
///
/// Every payload starts with its CLOCK_MONOTONIC send time in nanoseconds, so a subscriber
/// in the same process measures delivery latency against the same clock. Binary payloads
/// hold it as 8 little-endian bytes; JSON payloads are a string of 20 decimal digits then
/// padding (`"00000001234567890123xxxx…"`), so `size` counts the same bytes either way.
enum BenchPayload {
    /// A whole masked client frame publishing `size` payload bytes to `topic`, or with a
    /// corpus its next message: `{"sent":"<20 digits>","msg":<message>}` (`size` unused).
    static func publishFrame(topic: String, size: Int, json: Bool, corpus: BenchCorpus? = nil, sentAt: UInt64) -> [UInt8] {
        if let corpus {
            var data = corpusPrefix
            data += digits(sentAt)
            data += corpusMiddle
            data += corpus.take()
            data.append(UInt8(ascii: "}"))
            let envelope = ClientEnvelope.publish(topic: topic, dataJSON: data, id: nil)
            return FrameEncoder.encode(opcode: .text, payload: envelope, maskKey: .random())
        }
        if json {
            var data: [UInt8] = [UInt8(ascii: "\"")]
            var digits = [UInt8](repeating: UInt8(ascii: "0"), count: 20)
            var value = sentAt
            for index in stride(from: 19, through: 0, by: -1) {
                digits[index] = UInt8(ascii: "0") + UInt8(value % 10)
                value /= 10
            }
            data += digits
            data += [UInt8](repeating: UInt8(ascii: "x"), count: Swift.max(0, size - 22))
            data.append(UInt8(ascii: "\""))
            let envelope = ClientEnvelope.publish(topic: topic, dataJSON: data, id: nil)
            return FrameEncoder.encode(opcode: .text, payload: envelope, maskKey: .random())
        }
        var payload = [UInt8](repeating: 0x61, count: Swift.max(8, size))
        for index in 0..<8 { payload[index] = UInt8(truncatingIfNeeded: sentAt >> (8 * UInt64(index))) }
        let publish = BinaryLayout.encodePublish(topic: topic, id: nil, payload: payload)
        return FrameEncoder.encode(opcode: .binary, payload: publish, maskKey: .random())
    }

    private static let corpusPrefix = Array(#"{"sent":""#.utf8)
    private static let corpusMiddle = Array(#"","msg":"#.utf8)

    private static func digits(_ value: UInt64) -> [UInt8] {
        var digits = [UInt8](repeating: UInt8(ascii: "0"), count: 20)
        var value = value
        for index in stride(from: 19, through: 0, by: -1) {
            digits[index] = UInt8(ascii: "0") + UInt8(value % 10)
            value /= 10
        }
        return digits
    }

    /// A delivered message's sequence number and send time.
    struct Delivery: Equatable {
        var seq: UInt64
        var sentAt: UInt64
    }

    /// Reads a binary message (Protocol.md "binary message") straight from its header.
    static func parseBinary(_ bytes: UnsafeRawBufferPointer) -> Delivery? {
        let count = bytes.count
        guard count >= 2, bytes[0] == BinaryLayout.messageKind else { return nil }
        var index = 2 + Int(bytes[1])
        guard count >= index + 10 else { return nil }
        let seq = UInt64(bigEndian: bytes.loadUnaligned(fromByteOffset: index, as: UInt64.self))
        index += 8
        index += 2 + (Int(bytes[index]) << 8 | Int(bytes[index + 1]))
        guard count >= index + 8 else { return nil }
        let sentAt = UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: index, as: UInt64.self))
        return Delivery(seq: seq, sentAt: sentAt)
    }

    private static let messagePrefix = Array(#"{"type":"message","#.utf8)
    private static let seqKey = Array(#""seq":"#.utf8)
    private static let dataKey = Array(#""data":"#.utf8)

    /// Reads a text `message` envelope. The server always writes its keys in the order of
    /// Protocol.md (`type`, `topic`, `epoch`, `seq`, `data`), which is what makes a scan enough.
    /// Nil for any other envelope (welcome, ack, error).
    static func parseText(_ bytes: UnsafeRawBufferPointer) -> Delivery? {
        guard bytes.count > messagePrefix.count, bytes.starts(with: messagePrefix) else { return nil }
        guard var index = find(seqKey, in: bytes, from: messagePrefix.count) else { return nil }
        var seq: UInt64 = 0
        while index < bytes.count, (0x30...0x39).contains(bytes[index]) {
            seq = seq * 10 + UInt64(bytes[index] - 0x30)
            index += 1
        }
        guard var start = find(dataKey, in: bytes, from: index) else { return nil }
        // `"data":"<digits>…"` (padding) or `"data":{"sent":"<digits>",…}` (a corpus message).
        if start < bytes.count, bytes[start] == UInt8(ascii: "{") { start += corpusPrefix.count } else { start += 1 }
        guard bytes.count >= start + 20 else { return nil }
        var sentAt: UInt64 = 0
        for _ in 0..<20 {
            sentAt = sentAt &* 10 &+ UInt64(bytes[start] &- 0x30)
            start += 1
        }
        return Delivery(seq: seq, sentAt: sentAt)
    }

    /// Index just past the first occurrence of `needle` at or after `from`.
    private static func find(_ needle: [UInt8], in bytes: UnsafeRawBufferPointer, from: Int) -> Int? {
        guard let first = needle.first, bytes.count >= needle.count else { return nil }
        var index = from
        while index + needle.count <= bytes.count {
            if bytes[index] == first {
                var match = true
                for offset in 1..<needle.count where bytes[index + offset] != needle[offset] {
                    match = false
                    break
                }
                if match { return index + needle.count }
            }
            index += 1
        }
        return nil
    }
}
