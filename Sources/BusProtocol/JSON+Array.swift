extension JSON {
    /// Validates `bytes` as exactly one JSON array (with optional surrounding whitespace) and
    /// calls `element` once per element, in order, with its byte range (whitespace trimmed).
    /// The array is level 0, as the object is for `scanObject`; a text that is not an array
    /// is `.syntax` at its first byte. As with `scanObject`, act on what `element` saw only
    /// once this returns without throwing.
    public static func scanArray(
        _ bytes: UnsafeRawBufferPointer,
        maxDepth: Int = defaultMaxDepth,
        _ element: (_ value: Range<Int>) throws(JSONError) -> Void
    ) throws(JSONError) {
        let count = bytes.count
        var index = JSONLexer.skipWhitespace(bytes, from: 0)
        guard index < count, bytes[index] == 0x5B else { throw .syntax(offset: index, expected: .array) }
        index = JSONLexer.skipWhitespace(bytes, from: index + 1)
        if index < count, bytes[index] == 0x5D {
            index = JSONLexer.skipWhitespace(bytes, from: index + 1)
            guard index == count else { throw .syntax(offset: index, expected: .end) }
            return
        }
        try JSONValueScanner.withStack(maxDepth: maxDepth, count: count) { stack throws(JSONError) in
            while true {
                let start = index
                index = try JSONValueScanner.scan(bytes, from: start, maxDepth: maxDepth, stack: stack)
                try element(start ..< index)
                index = JSONLexer.skipWhitespace(bytes, from: index)
                guard index < count else { throw .syntax(offset: count, expected: .commaOrBracket) }
                let separator = bytes[index]
                guard separator == 0x2C || separator == 0x5D else { throw .syntax(offset: index, expected: .commaOrBracket) }
                index = JSONLexer.skipWhitespace(bytes, from: index + 1)
                if separator == 0x5D { break }
            }
        }
        guard index == count else { throw .syntax(offset: index, expected: .end) }
    }

    /// Whether the raw key bytes of a `scanObject` member (still escaped) spell `name`.
    /// Compares the unescaped text, so `"\u0065xp"` is `exp`.
    public static func keyEquals(_ key: UnsafeRawBufferPointer, _ name: String) -> Bool {
        if !key.contains(0x5C) { return key.elementsEqual(name.utf8) }
        var unescaped: [UInt8] = []
        _ = unescape(key, into: &unescaped)
        return unescaped.elementsEqual(name.utf8)
    }
}
