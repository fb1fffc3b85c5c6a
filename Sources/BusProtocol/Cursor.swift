/// Where a pattern subscription stands (Protocol.md "Resuming a pattern"): the server's
/// epoch and, for each of its loops, the offset of the last message that loop sequenced
/// which the subscription has been sent (or had no interest in). Text form:
/// `<epoch>.<offset>.<offset>…`, e.g. `9f3ac2e17b5d4e08.1207.0.88`: ASCII, no spaces, safe
/// in a URL query and in a Server-Sent Events `id:`.
///
/// One server-wide offset would not do: topics are sequenced by different loops whose
/// messages interleave at the subscriber, so "the highest offset seen" would skip messages
/// still on their way from another loop. Each loop → loop path is FIFO, so one offset per
/// sequencing loop is exact.
public struct Cursor: Sendable, Equatable, Hashable {
    /// The server's epoch: 16 lowercase hex digits, chosen at start (or kept in its data dir).
    public let epoch: String
    /// Per sequencing loop, in loop order.
    public let offsets: [UInt64]

    /// Most loops a cursor names, and longest text accepted: bounds what a client can make
    /// the server parse and hold.
    public static let maxLoops = 256
    public static let maxLength = 16 + maxLoops * 21

    public init(epoch: String, offsets: [UInt64]) {
        self.epoch = epoch
        self.offsets = offsets
    }

    /// Parses the text form; nil for anything malformed (wrong epoch shape, an empty or
    /// non-decimal offset, a number past 2^64−1, no offsets, too many).
    public init?(parsing text: some StringProtocol) {
        let bytes = Array(text.utf8)
        guard bytes.count <= Self.maxLength, bytes.count > 17 else { return nil }
        let epochBytes = bytes[0..<16]
        guard epochBytes.allSatisfy(Self.isLowerHex), bytes[16] == 0x2E else { return nil }
        var offsets: [UInt64] = []
        var value: UInt64 = 0
        var digits = 0
        for byte in bytes[17...] {
            if byte == 0x2E {
                guard digits > 0, offsets.count < Self.maxLoops else { return nil }
                offsets.append(value)
                value = 0
                digits = 0
                continue
            }
            guard byte >= 0x30 && byte <= 0x39 else { return nil }
            // No leading zeros beyond "0" itself: one text per cursor.
            if digits == 1 && value == 0 { return nil }
            let (times10, overflow1) = value.multipliedReportingOverflow(by: 10)
            let (sum, overflow2) = times10.addingReportingOverflow(UInt64(byte - 0x30))
            guard !overflow1 && !overflow2 else { return nil }
            value = sum
            digits += 1
        }
        guard digits > 0, offsets.count < Self.maxLoops else { return nil }
        offsets.append(value)
        epoch = String(decoding: epochBytes, as: UTF8.self)
        self.offsets = offsets
    }

    public var text: String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(17 + offsets.count * 8)
        bytes.append(contentsOf: epoch.utf8)
        for offset in offsets {
            bytes.append(0x2E)
            bytes.appendDecimal(offset)
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    private static func isLowerHex(_ byte: UInt8) -> Bool {
        (byte >= 0x30 && byte <= 0x39) || (byte >= 0x61 && byte <= 0x66)
    }
}

/// A topic position a client holds, as resumes and slow-consumer notices carry them.
public struct ResumePosition: Sendable, Equatable, Hashable {
    public let topic: String
    public let epoch: String
    public let seq: UInt64

    public init(topic: String, epoch: String, seq: UInt64) {
        self.topic = topic
        self.epoch = epoch
        self.seq = seq
    }
}
