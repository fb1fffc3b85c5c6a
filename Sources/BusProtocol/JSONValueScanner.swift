/// Validates one JSON value (RFC 8259 §3) of any nesting in a single pass, without recursion.
///
/// A hostile client can send a megabyte of `[`; a recursive descent would overflow the
/// thread's stack long before `maxDepth` is checked if the check came late, and even a
/// bounded recursion costs a call frame per level. Here the open containers are one bit each
/// (1 = object, 0 = array) in a caller-provided word stack, so the depth limit is checked
/// when a container opens and the memory is `maxDepth / 8` bytes, on the stack.
enum JSONValueScanner {
    /// Words of bit stack needed for `maxDepth` levels in an input of `count` bytes (each
    /// level needs at least one byte, so `count` bounds the depth too).
    @inline(__always)
    static func stackWords(maxDepth: Int, count: Int) -> Int {
        (max(0, min(maxDepth, count)) + 63) / 64 + 1
    }

    /// Runs `body` with a zeroed bit stack big enough for `maxDepth` levels of `bytes`.
    @inline(__always)
    static func withStack<R, E: Error>(maxDepth: Int, count: Int,
                                       _ body: (UnsafeMutablePointer<UInt64>) throws(E) -> R) throws(E) -> R {
        try withUnsafeTemporaryAllocation(of: UInt64.self, capacity: stackWords(maxDepth: maxDepth, count: count)) { words throws(E) in
            try body(words.baseAddress!)
        }
    }

    /// Scans the value whose first byte is at `start` (whitespace already skipped) and returns
    /// the index just past it; trailing whitespace is not consumed. A value nesting deeper
    /// than `maxDepth` containers (`[]` is 1 level) throws `.tooDeep`.
    static func scan(_ bytes: UnsafeRawBufferPointer, from start: Int, maxDepth: Int,
                     stack: UnsafeMutablePointer<UInt64>) throws(JSONError) -> Int {
        let count = bytes.count
        var index = start
        var depth = 0
        /// The innermost open container is an object.
        var inObject = false

        while true {
            // At a value: `index` is at its first byte (or at the end of the input).
            guard index < count else { throw .syntax(offset: count, expected: .value) }
            let byte = bytes[index]
            switch byte {
            case 0x7B, 0x5B: // { [
                guard depth < maxDepth else { throw .tooDeep(offset: index, maxDepth: maxDepth) }
                inObject = byte == 0x7B
                let word = depth >> 6, bit = UInt64(1) << UInt64(depth & 63)
                stack[word] = inObject ? stack[word] | bit : stack[word] & ~bit
                depth += 1
                index = JSONLexer.skipWhitespace(bytes, from: index + 1)
                if index < count, bytes[index] == byte &+ 2 { // } or ] closes it at once
                    index += 1
                    depth -= 1
                    inObject = depth > 0 && isObject(stack, level: depth - 1)
                } else {
                    if inObject { index = try scanMemberName(bytes, from: index) }
                    continue
                }
            case 0x22:
                index = try JSONLexer.scanString(bytes, from: index)
            case 0x2D, 0x30...0x39:
                index = try JSONLexer.scanNumber(bytes, from: index)
            case 0x74, 0x66, 0x6E:
                index = try JSONLexer.scanLiteral(bytes, from: index)
            default:
                throw .syntax(offset: index, expected: .value)
            }

            // After a complete value: a separator, a closer, or the end of the outermost value.
            while true {
                if depth == 0 { return index }
                index = JSONLexer.skipWhitespace(bytes, from: index)
                guard index < count else { throw .syntax(offset: count, expected: inObject ? .commaOrBrace : .commaOrBracket) }
                let next = bytes[index]
                if next == 0x2C { // ,
                    index = JSONLexer.skipWhitespace(bytes, from: index + 1)
                    if inObject { index = try scanMemberName(bytes, from: index) }
                    break
                }
                guard next == (inObject ? 0x7D : 0x5D) else { throw .syntax(offset: index, expected: inObject ? .commaOrBrace : .commaOrBracket) }
                index += 1
                depth -= 1
                inObject = depth > 0 && isObject(stack, level: depth - 1)
            }
        }
    }

    @inline(__always)
    static func isObject(_ stack: UnsafeMutablePointer<UInt64>, level: Int) -> Bool {
        stack[level >> 6] >> UInt64(level & 63) & 1 == 1
    }

    /// `"name" :` and the whitespace after it, inside an object; returns the index of the
    /// member's value.
    @inline(__always)
    static func scanMemberName(_ bytes: UnsafeRawBufferPointer, from start: Int) throws(JSONError) -> Int {
        guard start < bytes.count else { throw .syntax(offset: bytes.count, expected: .memberName) }
        guard bytes[start] == 0x22 else { throw .syntax(offset: start, expected: .memberName) }
        var index = JSONLexer.skipWhitespace(bytes, from: try JSONLexer.scanString(bytes, from: start))
        guard index < bytes.count else { throw .syntax(offset: bytes.count, expected: .colon) }
        guard bytes[index] == 0x3A else { throw .syntax(offset: index, expected: .colon) }
        index = JSONLexer.skipWhitespace(bytes, from: index + 1)
        return index
    }
}
