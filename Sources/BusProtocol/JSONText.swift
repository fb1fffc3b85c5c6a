/// Writing JSON string tokens (RFC 8259 §7) for the envelopes the server sends.
///
/// Only what §7 requires is escaped: `"`, `\` and the control characters U+0000–U+001F.
/// LF, CR and tab use their short forms (they are the common ones in messages); the rest are
/// `\u00XX` with lowercase hex. Everything else, `/`, DEL and all non-ASCII included, is
/// written as raw UTF-8: shorter, and byte-identical to what most clients would produce.
public enum JSONText {
    /// `text` as a JSON string token, quotes included.
    public static func quoted(_ text: String) -> String {
        var bytes: [UInt8] = []
        appendQuoted(text, to: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Appends `text` as a JSON string token, quotes included.
    public static func appendQuoted(_ text: String, to bytes: inout [UInt8]) {
        var text = text
        text.withUTF8 { appendQuoted(utf8: UnsafeRawBufferPointer($0), to: &bytes) }
    }

    /// Appends UTF-8 bytes as a JSON string token, quotes included: for a binary publish's
    /// id, which Protocol.md echoes "as a JSON string". The caller guarantees valid UTF-8
    /// (`BinaryLayout.parsePublish` checks it); bytes are copied, never repaired.
    public static func appendQuoted(utf8: UnsafeRawBufferPointer, to bytes: inout [UInt8]) {
        bytes.appendWritten { $0.quoted(utf8: utf8) }
    }

    /// Writes UTF-8 bytes as a JSON string token, quotes included, at `destination`; with
    /// none, only counts. Returns the token's length.
    static func writeQuoted(utf8: UnsafeRawBufferPointer, to destination: UnsafeMutableRawPointer?) -> Int {
        let source = utf8.assumingMemoryBound(to: UInt8.self)
        let firstEscape = firstEscape(in: source, from: 0)
        guard let destination else {
            // Counting: the common token, nothing to escape, is its bytes and two quotes.
            var count = source.count + 2
            for byte in source[firstEscape...] where needsEscape(byte) {
                count += byte == 0x22 || byte == 0x5C || byte == 0x0A || byte == 0x0D || byte == 0x09 ? 1 : 5
            }
            return count
        }
        if firstEscape == source.count {
            destination.storeBytes(of: 0x22, as: UInt8.self)
            if source.count > 0 { (destination + 1).copyMemory(from: utf8.baseAddress!, byteCount: source.count) }
            destination.storeBytes(of: 0x22, toByteOffset: source.count + 1, as: UInt8.self)
            return source.count + 2
        }
        var written = 0
        func put(_ byte: UInt8) {
            destination.storeBytes(of: byte, toByteOffset: written, as: UInt8.self)
            written += 1
        }
        func copy(_ run: Range<Int>) {
            guard !run.isEmpty else { return }
            (destination + written).copyMemory(from: utf8.baseAddress! + run.lowerBound, byteCount: run.count)
            written += run.count
        }
        put(0x22)
        var runStart = 0
        for index in firstEscape ..< source.count where needsEscape(source[index]) {
            let byte = source[index]
            copy(runStart ..< index)
            runStart = index + 1
            put(0x5C)
            switch byte {
            case 0x22, 0x5C: put(byte)
            case 0x0A: put(0x6E) // n
            case 0x0D: put(0x72) // r
            case 0x09: put(0x74) // t
            default:
                let hex: StaticString = "0123456789abcdef"
                put(0x75) // u
                put(0x30)
                put(0x30)
                put(hex.utf8Start[Int(byte >> 4)])
                put(hex.utf8Start[Int(byte & 0xF)])
            }
        }
        copy(runStart ..< source.count)
        put(0x22)
        return written
    }

    /// The index of the first byte from `start` that needs escaping; `source.count` if none.
    @inline(__always)
    ///
    /// Eight bytes a step: a word with no byte below 0x20 and none equal to `"` or `\` (every
    /// word of nearly every topic, epoch and id, each ack writes three) passes whole; the word
    /// holding the first flagged byte is looked at byte by byte.
    private static func firstEscape(in source: UnsafeBufferPointer<UInt8>, from start: Int) -> Int {
        guard let base = source.baseAddress else { return 0 }
        let ones: UInt64 = 0x0101_0101_0101_0101
        var index = start
        while source.count - index >= 8 {
            let word = UnsafeRawPointer(base + index).loadUnaligned(as: UInt64.self)
            let quote = word ^ (ones &* 0x22)
            let backslash = word ^ (ones &* 0x5C)
            // "Some byte below 0x20" and "some byte zero" (after XOR with `"` or `\`).
            let flagged = ((word &- ones &* 0x20) & ~word | (quote &- ones) & ~quote | (backslash &- ones) & ~backslash) & (ones &<< 7)
            if flagged != 0 { break }
            index &+= 8
        }
        while index < source.count && !needsEscape(base[index]) { index &+= 1 }
        return index
    }

    /// What RFC 8259 §7 requires escaped: `"`, `\` and U+0000–U+001F.
    @inline(__always)
    private static func needsEscape(_ byte: UInt8) -> Bool { byte < 0x20 || byte == 0x22 || byte == 0x5C }
}
