/// Why a JSON text was refused. Every case is protocol code `bad_json`: a client can only
/// fix its JSON, so the wire code stays coarse while `message` says where it broke.
public enum JSONError: Error, Equatable, Sendable {
    /// The byte at `offset` cannot continue a valid JSON text; `offset == count` means the
    /// input ended too early.
    case syntax(offset: Int)
    /// A container at `offset` would nest deeper than the `maxDepth` levels allowed.
    case tooDeep(offset: Int, maxDepth: Int)
    /// `scanObject` was given a text whose value does not start with `{`.
    case notObject

    /// The stable protocol code for every JSON failure.
    public var code: ErrorCode { .badJSON }

    /// A short explanation for the error envelope.
    public var message: String {
        switch self {
        case .syntax(let offset): "invalid JSON at byte \(offset)"
        case .tooDeep(_, let maxDepth): "JSON nested deeper than \(maxDepth) levels"
        case .notObject: "expected one JSON object"
        }
    }
}
