/// Why a topic name or pattern was refused.
///
/// Every case maps to the one protocol code `invalid_topic`: a client can only fix its topic,
/// whatever the reason, so the wire code stays coarse and stable (NATS keeps its error codes
/// fixed in `server/errors.json` for the same reason). `reason` and `message` say which rule
/// failed, for logs and the error envelope's text.
public enum TopicError: Error, Equatable, Sendable {
    /// Zero bytes.
    case empty
    /// More UTF-8 bytes than `TopicLimits.maxLength`.
    case tooLong(max: Int)
    /// More dot-separated segments than `TopicLimits.maxDepth`.
    case tooDeep(max: Int)
    /// A leading, trailing or doubled dot.
    case emptySegment
    /// Whitespace (Unicode `White_Space`) or a control character (`Cc`).
    case invalidCharacter
    /// `*` or `>` in a topic name; only patterns may hold wildcards.
    case wildcardInTopic
    /// A wildcard sharing its segment with other characters, or `>` before the last segment.
    case misplacedWildcard
    /// Raw bytes that are not well-formed UTF-8 (Unicode 15, table 3-7).
    case invalidUTF8

    /// The stable protocol code. Never change it once published: clients match on it.
    public var code: String { "invalid_topic" }

    /// A stable snake_case name for the failed rule, finer than `code`.
    public var reason: String {
        switch self {
        case .empty: "empty"
        case .tooLong: "too_long"
        case .tooDeep: "too_deep"
        case .emptySegment: "empty_segment"
        case .invalidCharacter: "invalid_character"
        case .wildcardInTopic: "wildcard_in_topic"
        case .misplacedWildcard: "misplaced_wildcard"
        case .invalidUTF8: "invalid_utf8"
        }
    }

    /// A short explanation for a human reading the error envelope.
    public var message: String {
        switch self {
        case .empty: "topic is empty"
        case .tooLong(let max): "topic is longer than \(max) bytes"
        case .tooDeep(let max): "topic has more than \(max) segments"
        case .emptySegment: "topic has an empty segment (leading, trailing or double dot)"
        case .invalidCharacter: "topic contains whitespace or a control character"
        case .wildcardInTopic: "wildcards * and > are allowed only in subscription patterns"
        case .misplacedWildcard: "a wildcard must be a whole segment, and > only the last one"
        case .invalidUTF8: "topic is not valid UTF-8"
        }
    }
}
