extension JSON {
    /// The text of a JSON string token (`raw` includes the quotes), with escapes resolved.
    ///
    /// Nil when `raw` is not exactly one valid string token, or when it escapes a lone
    /// surrogate (`"\ud800"`): the validator accepts those (RFC 8259 §8.2), but they have no
    /// UTF-8 form, and repairing them to U+FFFD would make distinct texts (two different
    /// topics, say) compare equal.
    public static func decodeString(_ raw: UnsafeRawBufferPointer) -> String? {
        guard raw.count >= 2, raw[0] == 0x22,
              (try? JSONLexer.scanString(raw, from: 0)) == raw.count else { return nil }
        return decodeScannedString(raw)
    }

    /// `decodeString` of a token already proven a whole, valid string token (a member value
    /// `scanObject` passed that starts with a quote): not scanned again.
    static func decodeScannedString(_ raw: UnsafeRawBufferPointer) -> String? {
        let content = UnsafeRawBufferPointer(rebasing: raw[1 ..< raw.count - 1])
        guard content.contains(0x5C) else {
            return String(decoding: content, as: UTF8.self) // proven UTF-8 by scanString
        }
        var utf8: [UInt8] = []
        utf8.reserveCapacity(content.count)
        let sawLoneSurrogate = unescape(content, into: &utf8)
        guard !sawLoneSurrogate else { return nil }
        return String(decoding: utf8, as: UTF8.self)
    }

    /// The value of an integer token (`-?(0|[1-9][0-9]*)`, no fraction or exponent), or nil
    /// if `raw` is anything else or does not fit in an `Int64`.
    public static func decodeInteger(_ raw: UnsafeRawBufferPointer) -> Int64? {
        let negative = raw.first == 0x2D
        guard let magnitude = decodeMagnitude(UnsafeRawBufferPointer(rebasing: raw[(negative ? 1 : 0)...])) else {
            return nil
        }
        if negative {
            return magnitude <= UInt64(Int64.max) + 1 ? Int64(truncatingIfNeeded: 0 &- magnitude) : nil
        }
        return magnitude <= UInt64(Int64.max) ? Int64(magnitude) : nil
    }

    /// The value of a non-negative integer token (`0|[1-9][0-9]*`) that fits in a `UInt64`,
    /// such as `seq`; nil otherwise.
    public static func decodeUnsignedInteger(_ raw: UnsafeRawBufferPointer) -> UInt64? {
        decodeMagnitude(raw)
    }

    /// Digits without a sign, with JSON's no-leading-zero rule.
    static func decodeMagnitude(_ digits: UnsafeRawBufferPointer) -> UInt64? {
        guard let first = digits.first, first &- 0x30 < 10, first != 0x30 || digits.count == 1 else {
            return nil
        }
        var value: UInt64 = 0
        for byte in digits {
            let digit = byte &- 0x30
            guard digit < 10 else { return nil }
            let (times10, overflow1) = value.multipliedReportingOverflow(by: 10)
            let (sum, overflow2) = times10.addingReportingOverflow(UInt64(digit))
            guard !overflow1, !overflow2 else { return nil }
            value = sum
        }
        return value
    }

    /// Appends the unescaped bytes of string content that `JSONLexer.scanString` accepted.
    /// Returns true when a `\u` escape named a lone surrogate, which is appended in the
    /// generalized 3-byte form (WTF-8) so the output stays a one-to-one function of the text:
    /// keys compare equal exactly when they denote the same code units.
    static func unescape(_ content: UnsafeRawBufferPointer, into output: inout [UInt8]) -> Bool {
        var sawLoneSurrogate = false
        var index = 0
        let count = content.count
        while index < count {
            let byte = content[index]
            guard byte == 0x5C else {
                output.append(byte)
                index += 1
                continue
            }
            let escape = content[index + 1]
            index += 2
            switch escape {
            case 0x62: output.append(0x08) // b
            case 0x66: output.append(0x0C) // f
            case 0x6E: output.append(0x0A) // n
            case 0x72: output.append(0x0D) // r
            case 0x74: output.append(0x09) // t
            case 0x75: // u
                var scalar = hex4(content, at: index)
                index += 4
                if (0xD800...0xDBFF).contains(scalar), index + 6 <= count,
                   content[index] == 0x5C, content[index + 1] == 0x75 {
                    let low = hex4(content, at: index + 2)
                    if (0xDC00...0xDFFF).contains(low) {
                        scalar = 0x10000 + (scalar - 0xD800) << 10 + (low - 0xDC00)
                        index += 6
                    }
                }
                if (0xD800...0xDFFF).contains(scalar) { sawLoneSurrogate = true }
                appendUTF8(scalar, to: &output)
            default: output.append(escape) // " \ /
            }
        }
        return sawLoneSurrogate
    }

    /// Four hex digits already checked by the lexer.
    static func hex4(_ bytes: UnsafeRawBufferPointer, at start: Int) -> UInt32 {
        var value: UInt32 = 0
        for offset in start ..< start + 4 {
            value = value << 4 | UInt32(JSONLexer.hexValue(bytes[offset]) ?? 0)
        }
        return value
    }

    /// UTF-8 encoding of a code point; surrogates get the generalized 3-byte form.
    static func appendUTF8(_ scalar: UInt32, to output: inout [UInt8]) {
        switch scalar {
        case ..<0x80:
            output.append(UInt8(scalar))
        case ..<0x800:
            output.append(UInt8(0xC0 | scalar >> 6))
            output.append(UInt8(0x80 | scalar & 0x3F))
        case ..<0x10000:
            output.append(UInt8(0xE0 | scalar >> 12))
            output.append(UInt8(0x80 | scalar >> 6 & 0x3F))
            output.append(UInt8(0x80 | scalar & 0x3F))
        default:
            output.append(UInt8(0xF0 | scalar >> 18))
            output.append(UInt8(0x80 | scalar >> 12 & 0x3F))
            output.append(UInt8(0x80 | scalar >> 6 & 0x3F))
            output.append(UInt8(0x80 | scalar & 0x3F))
        }
    }
}
