/// The grammar shared by topic names and patterns, checked in one pass over UTF-8 bytes.
///
/// One scanner serves both `String` and raw-byte input: it decodes and validates UTF-8 as it
/// goes (needed for bytes, and cheap for strings since ASCII takes the first branch), so a
/// topic is read once and every rule is decided at the byte where it breaks.
enum TopicSyntax {
    static let dot = UInt8(ascii: ".")
    static let star = UInt8(ascii: "*")
    static let fullWildcard = UInt8(ascii: ">")

    enum SegmentKind: Equatable {
        case literal, star, fullWildcard
    }

    /// The kind of one segment of a validated pattern, where `*` and `>` only stand alone.
    @inline(__always)
    static func kind(of segment: UnsafeBufferPointer<UInt8>) -> SegmentKind {
        guard segment.count == 1 else { return .literal }
        switch segment[0] {
        case star: return .star
        case fullWildcard: return .fullWildcard
        default: return .literal
        }
    }

    /// What validation learned, so values need not scan again.
    struct Shape {
        var segmentCount: Int
        /// Some segment is `*` or `>`.
        var hasWildcard: Bool
        /// The last segment is `>`.
        var endsWithFullWildcard: Bool
    }

    /// Returns a `Result` rather than throwing because callers run it inside
    /// `withContiguousStorageIfAvailable`, whose untyped `rethrows` would erase `TopicError`.
    static func scan(
        _ bytes: UnsafeBufferPointer<UInt8>, wildcards: Bool, limits: TopicLimits
    ) -> Result<Shape, TopicError> {
        let count = bytes.count
        if count == 0 { return .failure(.empty) }
        if count > limits.maxLength { return .failure(.tooLong(max: limits.maxLength)) }

        var shape = Shape(segmentCount: 1, hasWildcard: false, endsWithFullWildcard: false)
        var segmentStart = 0
        /// The wildcard byte seen in the current segment, or 0.
        var wildcard: UInt8 = 0

        /// Checks the segment `segmentStart..<end`; `last` tells whether a dot follows it.
        func closeSegment(end: Int, last: Bool) -> TopicError? {
            if end == segmentStart { return .emptySegment }
            guard wildcard != 0 else { return nil }
            if end - segmentStart != 1 { return .misplacedWildcard }
            if wildcard == fullWildcard && !last { return .misplacedWildcard }
            shape.hasWildcard = true
            shape.endsWithFullWildcard = last && wildcard == fullWildcard
            return nil
        }

        var i = 0
        while i < count {
            let byte = bytes[i]
            // Most bytes are printable ASCII other than `.`, `*` and `>`: one test lets them by.
            if byte &- 0x21 < 0x5E && byte != dot && byte != star && byte != fullWildcard {
                i &+= 1
                continue
            }
            if byte < 0x80 {
                switch byte {
                case dot:
                    if let error = closeSegment(end: i, last: false) { return .failure(error) }
                    shape.segmentCount += 1
                    if shape.segmentCount > limits.maxDepth {
                        return .failure(.tooDeep(max: limits.maxDepth))
                    }
                    segmentStart = i + 1
                    wildcard = 0
                case star, fullWildcard:
                    if !wildcards { return .failure(.wildcardInTopic) }
                    wildcard = byte
                case 0x00...0x20, 0x7F:
                    return .failure(.invalidCharacter)
                default:
                    break
                }
                i += 1
            } else {
                guard let (scalar, length) = decodeMultiByte(bytes, at: i) else {
                    return .failure(.invalidUTF8)
                }
                if isForbidden(scalar) { return .failure(.invalidCharacter) }
                i += length
            }
        }
        if let error = closeSegment(end: count, last: true) { return .failure(error) }
        return .success(shape)
    }

    /// Decodes the non-ASCII scalar starting at `i`, refusing overlong forms, surrogates and
    /// values past U+10FFFF (the well-formed byte sequences of Unicode table 3-7).
    @inline(__always)
    static func decodeMultiByte(_ bytes: UnsafeBufferPointer<UInt8>, at i: Int) -> (UInt32, Int)? {
        let lead = bytes[i]
        let length: Int
        var low: UInt8 = 0x80, high: UInt8 = 0xBF  // allowed range of the second byte
        var scalar: UInt32
        switch lead {
        case 0xC2...0xDF: length = 2; scalar = UInt32(lead & 0x1F)
        case 0xE0: length = 3; scalar = 0; low = 0xA0
        case 0xE1...0xEC, 0xEE...0xEF: length = 3; scalar = UInt32(lead & 0x0F)
        case 0xED: length = 3; scalar = 0xD; high = 0x9F
        case 0xF0: length = 4; scalar = 0; low = 0x90
        case 0xF1...0xF3: length = 4; scalar = UInt32(lead & 0x07)
        case 0xF4: length = 4; scalar = 4; high = 0x8F
        default: return nil
        }
        guard i + length <= bytes.count else { return nil }
        let second = bytes[i + 1]
        guard second >= low && second <= high else { return nil }
        scalar = scalar << 6 | UInt32(second & 0x3F)
        var k = 2
        while k < length {
            let next = bytes[i + k]
            guard next & 0xC0 == 0x80 else { return nil }
            scalar = scalar << 6 | UInt32(next & 0x3F)
            k += 1
        }
        return (scalar, length)
    }

    /// Non-ASCII scalars that are Unicode `White_Space` or general category `Cc`.
    /// The list is fixed by Unicode's stability policy for these properties; a test compares it
    /// with `Unicode.Scalar.Properties` for every scalar.
    @inline(__always)
    static func isForbidden(_ scalar: UInt32) -> Bool {
        switch scalar {
        case 0x80...0xA0,  // C1 controls (NEL included) and NO-BREAK SPACE
             0x1680, 0x2000...0x200A, 0x2028, 0x2029, 0x202F, 0x205F, 0x3000:
            return true
        default:
            return false
        }
    }
}

// MARK: - Byte identity

/// Topics are compared and hashed by their UTF-8 bytes, not by `String`'s canonical
/// equivalence: NATS compares subjects byte for byte, so `é` (U+00E9) and `e` + U+0301 must
/// be two topics here too, or a local match would disagree with the backplane's.
@inline(__always)
func withUTF8Bytes<R>(_ string: String, _ body: (UnsafeBufferPointer<UInt8>) -> R) -> R {
    if let result = string.utf8.withContiguousStorageIfAvailable(body) { return result }
    var copy = string
    return copy.withUTF8(body)
}

@inline(__always)
func utf8Equal(_ a: UnsafeBufferPointer<UInt8>, _ b: UnsafeBufferPointer<UInt8>) -> Bool {
    // Eight bytes a step: every topic and pattern key compared in a hash table comes here
    // (`elementsEqual` went a byte at a time through its iterators).
    guard a.count == b.count else { return false }
    guard let x = a.baseAddress, let y = b.baseAddress, x != y else { return true }
    let raw = (UnsafeRawPointer(x), UnsafeRawPointer(y))
    var offset = 0
    while offset + 8 <= a.count {
        if raw.0.loadUnaligned(fromByteOffset: offset, as: UInt64.self) != raw.1.loadUnaligned(fromByteOffset: offset, as: UInt64.self) {
            return false
        }
        offset += 8
    }
    while offset < a.count {
        if x[offset] != y[offset] { return false }
        offset += 1
    }
    return true
}

@inline(__always)
func utf8Equal(_ a: String, _ b: String) -> Bool {
    withUTF8Bytes(a) { pa in withUTF8Bytes(b) { pb in utf8Equal(pa, pb) } }
}

@inline(__always)
func hashUTF8(_ string: String, into hasher: inout Hasher) {
    withUTF8Bytes(string) { hashUTF8($0, into: &hasher) }
}

@inline(__always)
func hashUTF8(_ bytes: UnsafeBufferPointer<UInt8>, into hasher: inout Hasher) {
    hasher.combine(bytes: UnsafeRawBufferPointer(bytes))
}

/// Yields the segments of a validated name or pattern as byte ranges. Valid input has no
/// empty segment, so a dot always ends one segment and starts the next.
struct ByteSegments {
    let bytes: UnsafeBufferPointer<UInt8>
    var position = 0

    init(_ bytes: UnsafeBufferPointer<UInt8>) { self.bytes = bytes }

    mutating func next() -> UnsafeBufferPointer<UInt8>? {
        guard position < bytes.count else { return nil }
        var end = position
        while end < bytes.count && bytes[end] != TopicSyntax.dot { end += 1 }
        defer { position = end + 1 }
        return UnsafeBufferPointer(rebasing: bytes[position..<end])
    }
}

/// Yields the segments of a validated name or pattern as substrings, without allocating.
/// Dots are ASCII, so every boundary is a scalar boundary and slicing by UTF-8 index is safe.
struct SubstringSegments: Sequence, IteratorProtocol {
    let string: String
    var start: String.Index

    init(_ string: String) {
        self.string = string
        self.start = string.startIndex
    }

    mutating func next() -> Substring? {
        guard start < string.endIndex else { return nil }
        let utf8 = string.utf8
        let end = utf8[start...].firstIndex(of: TopicSyntax.dot) ?? string.endIndex
        defer { start = end == string.endIndex ? end : utf8.index(after: end) }
        return string[start..<end]
    }
}

@inline(__always)
func withUTF8Bytes<R>(_ substring: Substring, _ body: (UnsafeBufferPointer<UInt8>) -> R) -> R {
    if let result = substring.utf8.withContiguousStorageIfAvailable(body) { return result }
    var copy = substring
    return copy.withUTF8(body)
}

extension TopicSyntax {
    @inline(__always)
    static func kind(of segment: Substring) -> SegmentKind {
        withUTF8Bytes(segment) { kind(of: $0) }
    }
}
