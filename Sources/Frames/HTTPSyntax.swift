/// Byte classes and helpers from the HTTP grammar (RFC 9110 §5.6, RFC 9112 §2), shared by the
/// head parsers, the headers type and the body decoder. Everything is ASCII: HTTP field names,
/// methods and tokens are ASCII by definition, so no Unicode case mapping is involved.
enum HTTPSyntax {
    static let cr = UInt8(ascii: "\r")
    static let lf = UInt8(ascii: "\n")
    static let space = UInt8(ascii: " ")
    static let tab = UInt8(ascii: "\t")
    static let colon = UInt8(ascii: ":")

    /// The bytes of a literal, in place (a name or token a parser compares with).
    @inline(__always)
    static func bytes(_ literal: StaticString) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(start: literal.utf8Start, count: literal.utf8CodeUnitCount)
    }

    /// True when `bytes` are exactly `literal`'s (case-sensitive, as methods and versions are).
    static func equals(_ bytes: UnsafeRawBufferPointer, _ literal: StaticString) -> Bool {
        bytes.count == literal.utf8CodeUnitCount && (bytes.isEmpty || memcmpEqual(bytes.baseAddress!, literal.utf8Start, bytes.count))
    }

    private static func memcmpEqual(_ a: UnsafeRawPointer, _ b: UnsafePointer<UInt8>, _ count: Int) -> Bool {
        for index in 0..<count where a.load(fromByteOffset: index, as: UInt8.self) != b[index] { return false }
        return true
    }

    /// `tchar` (RFC 9110 §5.6.2): the characters of a token (methods, field names, codings):
    /// `!#$%&'*+-.^_`|~`, digits and letters, as two 64-bit masks (bytes 0–63 and 64–127);
    /// every field name of every request passes through here.
    static func isTokenChar(_ byte: UInt8) -> Bool {
        let mask: UInt64 = byte < 64 ? 0x03FF_6CFA_0000_0000 : byte < 128 ? 0x57FF_FFFF_C7FF_FFFE : 0
        return mask >> UInt64(byte & 63) & 1 == 1
    }

    /// `isTokenChar` of every byte, 1 or 0: a head reader's name loop costs a load a byte
    /// instead of a mask's selection and bit test.
    static let tokenTable: [UInt8] = (0...255).map { isTokenChar(UInt8($0)) ? 1 : 0 }

    /// True when `bytes` is a non-empty `token` (RFC 9110 §5.6.2).
    static func isToken(_ bytes: some Collection<UInt8>) -> Bool {
        !bytes.isEmpty && bytes.allSatisfy(isTokenChar)
    }

    /// The index of the first LF in `bytes` at or after `start`, or `bytes.count`.
    ///
    /// Eight bytes a step (a word XORed with LFs has a zero byte where an LF was; the lowest
    /// flagged byte is exact, RFC-free bit arithmetic): every byte of every head passes here.
    static func firstLF(in bytes: UnsafeRawBufferPointer, from start: Int) -> Int {
        let ones: UInt64 = 0x0101_0101_0101_0101
        var index = start
        while bytes.count - index >= 8 {
            let word = UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: index, as: UInt64.self)) ^ (ones &* UInt64(lf))
            let zeros = (word &- ones) & ~word & (ones &<< 7)
            if zeros != 0 { return index + zeros.trailingZeroBitCount / 8 }
            index += 8
        }
        while index < bytes.count && bytes[index] != lf { index += 1 }
        return index
    }

    /// `OWS` characters (RFC 9110 §5.6.3).
    static func isWhitespace(_ byte: UInt8) -> Bool {
        byte == space || byte == tab
    }

    /// Control characters a field value must not hold (RFC 9110 §5.5): CTLs other than HTAB,
    /// and DEL. Bare CR, LF and NUL are among them, which blocks header injection.
    static func isForbiddenInValue(_ byte: UInt8) -> Bool {
        (byte < 0x20 && byte != tab) || byte == 0x7F
    }

    /// True when some byte of `bytes` is forbidden in a field value (`isForbiddenInValue`).
    ///
    /// Eight bytes a step: a word with no byte below 0x20 and none equal to 0x7F (nearly every
    /// word of every value) passes whole; any other is looked at byte by byte, where HTAB is
    /// allowed. Every value byte of every head passes here.
    static func containsForbiddenInValue(_ bytes: UnsafeRawBufferPointer) -> Bool {
        let ones: UInt64 = 0x0101_0101_0101_0101
        var index = 0
        while bytes.count - index >= 8 {
            let word = bytes.loadUnaligned(fromByteOffset: index, as: UInt64.self)
            let del = word ^ (ones &* 0x7F)
            // "Some byte below n" and "some byte zero" (n = 0x20; zero after XOR with DEL).
            let flagged = ((word &- ones &* 0x20) & ~word | (del &- ones) & ~del) & (ones &<< 7)
            if flagged != 0 {
                for offset in index..<(index + 8) where isForbiddenInValue(bytes[offset]) { return true }
            }
            index += 8
        }
        for offset in index..<bytes.count where isForbiddenInValue(bytes[offset]) { return true }
        return false
    }

    /// `text` with leading and trailing `OWS` removed.
    static func trimmed(_ text: Substring) -> Substring {
        var slice = text
        while let first = slice.utf8.first, isWhitespace(first) { slice = slice.dropFirst() }
        while let last = slice.utf8.last, isWhitespace(last) { slice = slice.dropLast() }
        return slice
    }

    /// ASCII-only lowercase of one byte.
    static func lowercased(_ byte: UInt8) -> UInt8 {
        (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte) ? byte + 0x20 : byte
    }

    /// Case-insensitive ASCII comparison, as field names and tokens compare (RFC 9110 §5.1).
    static func equalsIgnoringCase(_ a: some StringProtocol, _ b: some StringProtocol) -> Bool {
        let x = a.utf8
        let y = b.utf8
        guard x.count == y.count else { return false }
        // Native strings compare as byte buffers.
        let contiguous = x.withContiguousStorageIfAvailable { xs in
            y.withContiguousStorageIfAvailable { ys in equalsIgnoringCase(UnsafeRawBufferPointer(xs), UnsafeRawBufferPointer(ys)) }
        }
        if let contiguous, let equal = contiguous { return equal }
        return zip(x, y).allSatisfy { lowercased($0) == lowercased($1) }
    }

    /// Two byte buffers, ASCII letters compared without case: equal bytes (nearly all of
    /// them) cost one comparison, a case difference a second look. Header lookups run this
    /// for every line of every request.
    static func equalsIgnoringCase(_ xs: UnsafeRawBufferPointer, _ ys: UnsafeRawBufferPointer) -> Bool {
        guard xs.count == ys.count else { return false }
        // Names nearly always arrive spelled as we spell them: equal words first, eight
        // bytes at a time, and byte by byte (folding case) from the first word that differs.
        var start = 0
        while xs.count - start >= 8
                && xs.loadUnaligned(fromByteOffset: start, as: UInt64.self) == ys.loadUnaligned(fromByteOffset: start, as: UInt64.self) {
            start += 8
        }
        for index in start..<xs.count {
            let (p, q) = (xs[index], ys[index])
            if p != q {
                let folded = p | 0x20
                guard p ^ q == 0x20, folded >= UInt8(ascii: "a"), folded <= UInt8(ascii: "z") else { return false }
            }
        }
        return true
    }

    /// True when `wanted` (any case, not empty) is an element of the comma-separated `list`
    /// (RFC 9110 §5.6.1), elements trimmed of `OWS`. Reads the bytes in place: every
    /// handshake asks this of `Upgrade` and `Connection`.
    static func list(_ list: UnsafeRawBufferPointer, containsToken wanted: UnsafeRawBufferPointer) -> Bool {
        guard !wanted.isEmpty else { return false }
        // A list of just the token (`Upgrade: websocket`, `Connection: Upgrade`) needs no split.
        if list.count == wanted.count && equalsIgnoringCase(list, wanted) { return true }
        var found = false
        forEachListElement(of: list) { found = found || equalsIgnoringCase($0, wanted) }
        return found
    }

    /// Appends the non-empty elements of the comma-separated `list`, trimmed of `OWS`, in
    /// order (RFC 9110 §5.6.1).
    static func appendListElements(of list: UnsafeRawBufferPointer, to elements: inout [String]) {
        forEachListElement(of: list) { elements.append(String(decoding: $0, as: UTF8.self)) }
    }

    /// `appendListElements` of a string's bytes.
    static func appendListElements(of list: String, to elements: inout [String]) {
        var list = list
        list.withUTF8 { appendListElements(of: UnsafeRawBufferPointer($0), to: &elements) }
    }

    /// Calls `body` with each non-empty element of the comma-separated `list`, trimmed of
    /// `OWS`, in order.
    private static func forEachListElement(of bytes: UnsafeRawBufferPointer, _ body: (UnsafeRawBufferPointer) -> Void) {
        var start = 0
        while start < bytes.count {
            var end = start
            while end < bytes.count && bytes[end] != UInt8(ascii: ",") { end += 1 }
            var (from, to) = (start, end)
            while from < to && isWhitespace(bytes[from]) { from += 1 }
            while to > from && isWhitespace(bytes[to - 1]) { to -= 1 }
            if to > from { body(UnsafeRawBufferPointer(rebasing: bytes[from..<to])) }
            start = end + 1
        }
    }

    /// ASCII-only lowercase of a string (non-ASCII bytes are left alone).
    static func lowercased(_ text: some StringProtocol) -> String {
        String(decoding: text.utf8.map(lowercased), as: UTF8.self)
    }

    /// Value of an ASCII hex digit, or nil.
    static func hexValue(_ byte: UInt8) -> Int? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return Int(byte - UInt8(ascii: "0"))
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return Int(byte - UInt8(ascii: "a") + 10)
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return Int(byte - UInt8(ascii: "A") + 10)
        default: return nil
        }
    }

    /// True for an ASCII decimal digit.
    static func isDigit(_ byte: UInt8) -> Bool {
        (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
    }
}
