/// Strict RFC 8259 validation and scanning over raw bytes, for the server's hot path.
///
/// Nothing here copies a value: scanners hand back byte ranges into the input, so a publish's
/// `data` is validated once and forwarded as the very bytes the publisher sent (Protocol.md
/// "publish"). Nesting is scanned iteratively (`JSONValueScanner`), so depth costs one bit
/// per level and a hostile `[[[[…` cannot exhaust the stack.
public enum JSON {
    /// Default nesting limit, from Protocol.md: "nesting deeper than 64 levels inside `data`
    /// is refused".
    public static let defaultMaxDepth = 64

    /// True when `bytes` is exactly one JSON value, optionally surrounded by whitespace, with
    /// at most `maxDepth` nested containers (`[]` is 1, `[[]]` is 2; scalars are 0).
    public static func validateValue(_ bytes: UnsafeRawBufferPointer, maxDepth: Int = defaultMaxDepth) -> Bool {
        valueError(bytes, maxDepth: maxDepth) == nil
    }

    /// Like `validateValue`, but says where and why the text was refused.
    public static func valueError(_ bytes: UnsafeRawBufferPointer, maxDepth: Int = defaultMaxDepth) -> JSONError? {
        JSONValueScanner.withStack(maxDepth: maxDepth, count: bytes.count) { stack -> JSONError? in
            do throws(JSONError) {
                let start = JSONLexer.skipWhitespace(bytes, from: 0)
                let end = try JSONValueScanner.scan(bytes, from: start, maxDepth: maxDepth, stack: stack)
                let rest = JSONLexer.skipWhitespace(bytes, from: end)
                return rest == bytes.count ? nil : .syntax(offset: rest, expected: .end)
            } catch {
                return error
            }
        }
    }

    /// Validates `bytes` as exactly one JSON object (with optional surrounding whitespace) and
    /// calls `field` once per member, in input order, with the raw key bytes between the
    /// quotes (still escaped) and the byte range of the member's value, whitespace trimmed.
    ///
    /// The object itself is level 0: each member value may nest `maxDepth` containers, so an
    /// envelope's `data` gets the full 64 levels Protocol.md promises. Duplicate keys are not
    /// this function's business (it does not allocate); callers compare keys. `field` runs as
    /// members complete, before the rest of the text is validated, so a caller must not act
    /// on what it saw until this function returns without throwing. `field` may throw to stop
    /// the scan early.
    public static func scanObject(
        _ bytes: UnsafeRawBufferPointer,
        maxDepth: Int = defaultMaxDepth,
        _ field: (_ key: UnsafeRawBufferPointer, _ value: Range<Int>) throws(JSONError) -> Void
    ) throws(JSONError) {
        let count = bytes.count
        var index = JSONLexer.skipWhitespace(bytes, from: 0)
        guard index < count, bytes[index] == 0x7B else { throw .notObject }
        index = JSONLexer.skipWhitespace(bytes, from: index + 1)
        if index < count, bytes[index] == 0x7D {
            index = JSONLexer.skipWhitespace(bytes, from: index + 1)
            guard index == count else { throw .syntax(offset: index, expected: .end) }
            return
        }
        try JSONValueScanner.withStack(maxDepth: maxDepth, count: count) { stack throws(JSONError) in
            while true {
                guard index < count else { throw .syntax(offset: count, expected: .memberName) }
                guard bytes[index] == 0x22 else { throw .syntax(offset: index, expected: .memberName) }
                let keyStart = index + 1
                index = try JSONLexer.scanString(bytes, from: index)
                let key = UnsafeRawBufferPointer(rebasing: bytes[keyStart ..< index - 1])
                index = JSONLexer.skipWhitespace(bytes, from: index)
                guard index < count else { throw .syntax(offset: count, expected: .colon) }
                guard bytes[index] == 0x3A else { throw .syntax(offset: index, expected: .colon) }
                let valueStart = JSONLexer.skipWhitespace(bytes, from: index + 1)
                index = try JSONValueScanner.scan(bytes, from: valueStart, maxDepth: maxDepth, stack: stack)
                try field(key, valueStart ..< index)
                index = JSONLexer.skipWhitespace(bytes, from: index)
                guard index < count else { throw .syntax(offset: count, expected: .commaOrBrace) }
                let separator = bytes[index]
                guard separator == 0x2C || separator == 0x7D else { throw .syntax(offset: index, expected: .commaOrBrace) }
                index = JSONLexer.skipWhitespace(bytes, from: index + 1)
                if separator == 0x7D { break }
            }
        }
        guard index == count else { throw .syntax(offset: index, expected: .end) }
    }
}
