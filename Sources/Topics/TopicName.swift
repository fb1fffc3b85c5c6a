/// A validated topic a message is published on: no wildcards, checked once at the edge so
/// the rest of the broker never re-checks it.
///
/// Invariants: 1…`maxLength` UTF-8 bytes, 1…`maxDepth` non-empty dot-separated segments, no
/// `*`, `>`, whitespace or control character. Equality and hashing are by UTF-8 bytes (see
/// `withUTF8Bytes`), matching NATS subject semantics.
public struct TopicName: Hashable, Sendable, CustomStringConvertible {
    /// The topic as given; always native, contiguous UTF-8.
    public let string: String
    /// Number of segments, known from validation so matching can size its stack buffer.
    public var segmentCount: Int { Int(depth) }
    /// Stored narrow: names are keys of the loops' tables, 24 bytes with this rather than 32.
    private let depth: UInt32

    public init(_ string: String, limits: TopicLimits = .default) throws(TopicError) {
        var string = string
        string.makeContiguousUTF8()
        let shape = try withUTF8Bytes(string) {
            TopicSyntax.scan($0, wildcards: false, limits: limits)
        }.get()
        self.init(unchecked: string, segmentCount: shape.segmentCount)
    }

    /// Validates raw bytes (e.g. a slice of a read buffer) and copies them into a `String`;
    /// malformed UTF-8 is `TopicError.invalidUTF8`, never repaired.
    public init(validating bytes: UnsafeRawBufferPointer, limits: TopicLimits = .default) throws(TopicError) {
        self = try TopicBytes(validating: bytes, limits: limits).name
    }

    /// The same for bytes in an array (e.g. a percent-decoded URL path segment).
    public init(validating bytes: [UInt8], limits: TopicLimits = .default) throws(TopicError) {
        let shape = try bytes.withUnsafeBufferPointer { TopicSyntax.scan($0, wildcards: false, limits: limits) }.get()
        self.init(unchecked: String(decoding: bytes, as: UTF8.self), segmentCount: shape.segmentCount)
    }

    /// For strings already proven valid (a literal pattern, a trie path).
    init(unchecked string: String, segmentCount: Int) {
        self.string = string
        depth = UInt32(segmentCount)
    }

    /// The dot-separated segments, in order; never empty, none empty.
    public var segments: [Substring] { Array(SubstringSegments(string)) }

    /// Size in UTF-8 bytes, the unit `TopicLimits.maxLength` counts.
    public var utf8Count: Int { string.utf8.count }

    public var description: String { string }

    public static func == (lhs: TopicName, rhs: TopicName) -> Bool {
        utf8Equal(lhs.string, rhs.string)
    }

    public func hash(into hasher: inout Hasher) {
        hashUTF8(string, into: &hasher)
    }

    /// Feeds the hasher what `hash(into:)` feeds it for the name these bytes spell, so a
    /// table keyed by names can be searched by bytes (see `TopicBytes`).
    public static func hash(spelling bytes: UnsafeBufferPointer<UInt8>, into hasher: inout Hasher) {
        hashUTF8(bytes, into: &hasher)
    }

    /// Whether `bytes` are exactly this name's (the equality `==` uses).
    public func isSpelled(by bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        withUTF8Bytes(string) { utf8Equal($0, bytes) }
    }
}
