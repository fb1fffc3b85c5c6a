/// The token rules of RFC 8259 for one scalar at a time: whitespace, strings, numbers and
/// the three literals. `JSONValueScanner` strings them together iteratively.
///
/// Every function takes the index of the token's first byte and returns the index just past
/// it, or throws `JSONError.syntax` at the first byte that cannot continue the token (the
/// input's count when it ends too early), with what the token needed there. Callers
/// guarantee `start < bytes.count`.
enum JSONLexer {
    /// Bytes 0x01 repeated: the SWAR constants below test all 8 lanes of a word at once.
    static let ones: UInt64 = 0x0101_0101_0101_0101
    static let highBits: UInt64 = 0x8080_8080_8080_8080

    /// RFC 8259 §2: space, tab, LF, CR, and nothing else (no form feed, no NBSP).
    @inline(__always)
    static func skipWhitespace(_ bytes: UnsafeRawBufferPointer, from start: Int) -> Int {
        var index = start
        let count = bytes.count
        while index < count {
            let byte = bytes[index]
            guard byte <= 0x20, byte == 0x20 || byte == 0x0A || byte == 0x0D || byte == 0x09 else { break }
            index += 1
        }
        return index
    }

    /// Nonzero when some byte of `word` needs a closer look inside a string: `"`, `\`, a
    /// control character below 0x20, or a non-ASCII byte (which must be checked as UTF-8).
    /// May report a lane that is fine (a borrow), never misses one; the byte loop decides.
    @inline(__always)
    static func needsAttention(_ word: UInt64) -> Bool {
        let quote = word ^ (ones &* 0x22)
        let backslash = word ^ (ones &* 0x5C)
        let hasQuote = (quote &- ones) & ~quote
        let hasBackslash = (backslash &- ones) & ~backslash
        let hasControl = (word &- ones &* 0x20) & ~word
        return (hasQuote | hasBackslash | hasControl | word) & highBits != 0
    }

    /// A string token (RFC 8259 §7) starting at the `"` at `start`. Raw control characters,
    /// unknown escapes, short `\u` escapes and malformed UTF-8 (Unicode table 3-7) are
    /// refused. `\u` escapes of lone surrogates are accepted, as RFC 8259 §8.2 allows.
    /// Plain ASCII runs are skipped 8 bytes at a time.
    @inline(__always)
    static func scanString(_ bytes: UnsafeRawBufferPointer, from start: Int) throws(JSONError) -> Int {
        let count = bytes.count
        var index = start + 1
        while true {
            while count - index >= 8,
                  !needsAttention(bytes.loadUnaligned(fromByteOffset: index, as: UInt64.self)) {
                index += 8
            }
            guard index < count else { throw .syntax(offset: count, expected: .closingQuote) }
            let byte = bytes[index]
            if byte == 0x22 {
                return index + 1
            } else if byte == 0x5C {
                index = try scanEscape(bytes, from: index)
            } else if byte < 0x20 {
                throw .syntax(offset: index, expected: .escapedControl)
            } else if byte < 0x80 {
                index += 1
            } else {
                index = try scanUTF8Sequence(bytes, from: index)
            }
        }
    }

    /// One escape starting at the `\` at `start` (RFC 8259 §7).
    @inline(__always)
    static func scanEscape(_ bytes: UnsafeRawBufferPointer, from start: Int) throws(JSONError) -> Int {
        let count = bytes.count
        guard start + 1 < count else { throw .syntax(offset: count, expected: .escape) }
        switch bytes[start + 1] {
        case 0x22, 0x5C, 0x2F, 0x62, 0x66, 0x6E, 0x72, 0x74: // " \ / b f n r t
            return start + 2
        case 0x75: // u
            for offset in start + 2 ..< start + 6 {
                guard offset < count else { throw .syntax(offset: count, expected: .hexDigit) }
                guard hexValue(bytes[offset]) != nil else { throw .syntax(offset: offset, expected: .hexDigit) }
            }
            return start + 6
        default:
            throw .syntax(offset: start + 1, expected: .escape)
        }
    }

    /// The value of one hex digit, either case.
    @inline(__always)
    static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case 0x30...0x39: byte &- 0x30
        case 0x41...0x46: byte &- 0x41 &+ 10
        case 0x61...0x66: byte &- 0x61 &+ 10
        default: nil
        }
    }

    /// One multi-byte UTF-8 sequence whose lead byte (≥ 0x80) is at `start`, checked against
    /// Unicode table 3-7: no overlong forms, no surrogates, nothing above U+10FFFF. RFC 8259
    /// §8.1 requires UTF-8; checking here keeps the validator whole for inputs that did not
    /// come through a WebSocket text frame (HTTP bodies, fuzzers).
    static func scanUTF8Sequence(_ bytes: UnsafeRawBufferPointer, from start: Int) throws(JSONError) -> Int {
        let lead = bytes[start]
        let length: Int
        var low: UInt8 = 0x80, high: UInt8 = 0xBF // allowed range of the second byte
        switch lead {
        case 0xC2...0xDF: length = 2
        case 0xE0: length = 3; low = 0xA0
        case 0xE1...0xEC, 0xEE...0xEF: length = 3
        case 0xED: length = 3; high = 0x9F
        case 0xF0: length = 4; low = 0x90
        case 0xF1...0xF3: length = 4
        case 0xF4: length = 4; high = 0x8F
        default: throw .syntax(offset: start, expected: .utf8)
        }
        let count = bytes.count
        for offset in start + 1 ..< start + length {
            guard offset < count else { throw .syntax(offset: count, expected: .utf8) }
            let byte = bytes[offset]
            let ok = offset == start + 1 ? (low...high).contains(byte) : (0x80...0xBF).contains(byte)
            guard ok else { throw .syntax(offset: offset, expected: .utf8) }
        }
        return start + length
    }

    /// A number (RFC 8259 §6): `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`. Exponents of
    /// any size are grammatical; the value is never computed here.
    @inline(__always)
    static func scanNumber(_ bytes: UnsafeRawBufferPointer, from start: Int) throws(JSONError) -> Int {
        let count = bytes.count
        var index = start
        if bytes[index] == 0x2D { index += 1 } // -
        guard index < count else { throw .syntax(offset: count, expected: .digit) }
        switch bytes[index] {
        case 0x30:
            index += 1
        case 0x31...0x39:
            index = skipDigits(bytes, from: index + 1)
        default:
            throw .syntax(offset: index, expected: .digit)
        }
        if index < count, bytes[index] == 0x2E { // .
            index = try requireDigits(bytes, from: index + 1)
        }
        if index < count, bytes[index] | 0x20 == 0x65 { // e or E
            index += 1
            if index < count, bytes[index] == 0x2B || bytes[index] == 0x2D { index += 1 }
            index = try requireDigits(bytes, from: index)
        }
        return index
    }

    @inline(__always)
    static func skipDigits(_ bytes: UnsafeRawBufferPointer, from start: Int) -> Int {
        var index = start
        while index < bytes.count, bytes[index] &- 0x30 < 10 { index += 1 }
        return index
    }

    /// One or more digits.
    @inline(__always)
    static func requireDigits(_ bytes: UnsafeRawBufferPointer, from start: Int) throws(JSONError) -> Int {
        guard start < bytes.count else { throw .syntax(offset: bytes.count, expected: .digit) }
        guard bytes[start] &- 0x30 < 10 else { throw .syntax(offset: start, expected: .digit) }
        return skipDigits(bytes, from: start + 1)
    }

    /// `true`, `false` or `null` (RFC 8259 §3), chosen by the first byte at `start`.
    @inline(__always)
    static func scanLiteral(_ bytes: UnsafeRawBufferPointer, from start: Int) throws(JSONError) -> Int {
        let literal: StaticString = switch bytes[start] {
        case 0x74: "true"
        case 0x66: "false"
        default: "null"
        }
        let length = literal.utf8CodeUnitCount
        for offset in 0 ..< length {
            guard start + offset < bytes.count else { throw .syntax(offset: bytes.count, expected: .literal) }
            guard bytes[start + offset] == literal.utf8Start[offset] else {
                throw .syntax(offset: start + offset, expected: .literal)
            }
        }
        return start + length
    }
}
