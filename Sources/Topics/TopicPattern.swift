/// A validated subscription pattern: a topic whose segments may also be `*` (exactly one
/// segment) or, as the last segment only, `>` (one or more segments), as NATS subjects.
///
/// `>` never matches zero segments: `a.>` matches `a.b` and `a.b.c` but not `a`. Equality and
/// hashing are by UTF-8 bytes, like `TopicName`.
public struct TopicPattern: Hashable, Sendable, CustomStringConvertible {
    /// The pattern as given; always native, contiguous UTF-8.
    public let string: String
    public var segmentCount: Int { Int(depth) }
    /// Stored narrow: patterns are keys of the loops' tables, 24 bytes with this rather than 32.
    private let depth: UInt32
    /// No segment is a wildcard, so the pattern matches exactly one topic.
    public let isLiteral: Bool
    /// The last segment is `>`.
    public let endsWithFullWildcard: Bool

    public init(_ string: String, limits: TopicLimits = .default) throws(TopicError) {
        var string = string
        string.makeContiguousUTF8()
        let shape = try withUTF8Bytes(string) {
            TopicSyntax.scan($0, wildcards: true, limits: limits)
        }.get()
        self.init(unchecked: string, shape: shape)
    }

    /// Validates raw bytes and copies them into a `String`; malformed UTF-8 is an error.
    public init(validating bytes: UnsafeRawBufferPointer, limits: TopicLimits = .default) throws(TopicError) {
        let utf8 = bytes.assumingMemoryBound(to: UInt8.self)
        let shape = try TopicSyntax.scan(utf8, wildcards: true, limits: limits).get()
        self.init(unchecked: String(decoding: utf8, as: UTF8.self), shape: shape)
    }

    /// The literal pattern matching exactly `topic`; a valid name is always a valid pattern.
    public init(_ topic: TopicName) {
        self.string = topic.string
        depth = UInt32(topic.segmentCount)
        self.isLiteral = true
        self.endsWithFullWildcard = false
    }

    private init(unchecked string: String, shape: TopicSyntax.Shape) {
        self.string = string
        depth = UInt32(shape.segmentCount)
        self.isLiteral = !shape.hasWildcard
        self.endsWithFullWildcard = shape.endsWithFullWildcard
    }

    /// The one topic a literal pattern matches; nil when the pattern has a wildcard.
    public var literal: TopicName? {
        isLiteral ? TopicName(unchecked: string, segmentCount: segmentCount) : nil
    }

    /// The dot-separated segments, wildcards included, in order.
    public var segments: [Substring] { Array(SubstringSegments(string)) }

    public var utf8Count: Int { string.utf8.count }

    public var description: String { string }

    /// Whether `topic` is one of the topics this pattern selects. Walks both byte strings
    /// once, without allocating; the trie is the fast path for many patterns at once.
    public func matches(_ topic: TopicName) -> Bool {
        if isLiteral { return utf8Equal(string, topic.string) }
        if endsWithFullWildcard ? topic.segmentCount < segmentCount : topic.segmentCount != segmentCount {
            return false
        }
        return withUTF8Bytes(string) { pattern in
            withUTF8Bytes(topic.string) { topic in
                var patternSegments = ByteSegments(pattern)
                var topicSegments = ByteSegments(topic)
                while let p = patternSegments.next() {
                    guard let t = topicSegments.next() else { return false }
                    switch TopicSyntax.kind(of: p) {
                    case .fullWildcard: return true
                    case .star: continue
                    case .literal: if !utf8Equal(p, t) { return false }
                    }
                }
                return topicSegments.next() == nil
            }
        }
    }

    /// Whether every topic this pattern matches is also matched by `other`, so a permission
    /// granted for `other` covers a subscription to `self` (`a.b` ⊂ `a.*` ⊂ `a.>` ⊂ `>`).
    ///
    /// Segment by segment: `>` in `other` covers any non-empty rest of `self`; `*` in `other`
    /// covers a literal or `*`; a literal covers only itself. `>` in `self` stands for any
    /// number of segments, so only `>` in `other` covers it.
    public func isSubset(of other: TopicPattern) -> Bool {
        withUTF8Bytes(string) { mine in
            withUTF8Bytes(other.string) { theirs in
                var mySegments = ByteSegments(mine)
                var theirSegments = ByteSegments(theirs)
                while let t = theirSegments.next() {
                    guard let m = mySegments.next() else { return false }
                    switch TopicSyntax.kind(of: t) {
                    case .fullWildcard:
                        return true
                    case .star:
                        if TopicSyntax.kind(of: m) == .fullWildcard { return false }
                    case .literal:
                        if TopicSyntax.kind(of: m) != .literal || !utf8Equal(m, t) { return false }
                    }
                }
                return mySegments.next() == nil
            }
        }
    }

    /// Whether some topic matches both patterns. Segment by segment: `>` in either matches any
    /// non-empty rest; `*` matches any one segment; two literals must be equal.
    public func overlaps(_ other: TopicPattern) -> Bool {
        withUTF8Bytes(string) { mine in
            withUTF8Bytes(other.string) { theirs in
                var mySegments = ByteSegments(mine)
                var theirSegments = ByteSegments(theirs)
                while true {
                    let m = mySegments.next()
                    let t = theirSegments.next()
                    guard let m, let t else { return m == nil && t == nil }
                    let (myKind, theirKind) = (TopicSyntax.kind(of: m), TopicSyntax.kind(of: t))
                    if myKind == .fullWildcard || theirKind == .fullWildcard { return true }
                    if myKind == .literal && theirKind == .literal && !utf8Equal(m, t) { return false }
                }
            }
        }
    }

    public static func == (lhs: TopicPattern, rhs: TopicPattern) -> Bool {
        utf8Equal(lhs.string, rhs.string)
    }

    public func hash(into hasher: inout Hasher) {
        hashUTF8(string, into: &hasher)
    }
}
