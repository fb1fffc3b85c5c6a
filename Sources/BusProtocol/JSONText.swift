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
        bytes.reserveCapacity(bytes.count + utf8.count + 2)
        bytes.append(0x22)
        var runStart = 0
        for index in 0 ..< utf8.count {
            let byte = utf8[index]
            guard byte < 0x20 || byte == 0x22 || byte == 0x5C else { continue }
            bytes.append(contentsOf: UnsafeRawBufferPointer(rebasing: utf8[runStart ..< index]))
            runStart = index + 1
            bytes.append(0x5C)
            switch byte {
            case 0x22, 0x5C: bytes.append(byte)
            case 0x0A: bytes.append(0x6E) // n
            case 0x0D: bytes.append(0x72) // r
            case 0x09: bytes.append(0x74) // t
            default:
                let hex: StaticString = "0123456789abcdef"
                bytes.append(0x75) // u
                bytes.append(0x30)
                bytes.append(0x30)
                bytes.append(hex.utf8Start[Int(byte >> 4)])
                bytes.append(hex.utf8Start[Int(byte & 0xF)])
            }
        }
        bytes.append(contentsOf: UnsafeRawBufferPointer(rebasing: utf8[runStart...]))
        bytes.append(0x22)
    }
}
