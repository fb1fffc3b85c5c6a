/// Why a presented token was refused. Each case is one short, fixed-shape message for the
/// 401 body and the log: none ever quotes the token or any part of it.
public enum AuthError: Error, Equatable, Sendable {
    /// No token at all (no `Authorization: Bearer`, no `token` query parameter).
    case missing
    /// Neither a configured static token nor a JWT (when JWTs are configured).
    case unknownToken
    /// Not three base64url segments, too long, or a header or payload that is not JSON.
    case malformed(String)
    /// `alg` is not `HS256` (`none` included), or the header is otherwise unacceptable.
    case unsupportedAlgorithm(String)
    case badSignature
    /// `exp` (plus the leeway) has passed.
    case expired
    /// `nbf` (minus the leeway) has not come.
    case notYetValid
    /// A claim has the wrong type or an invalid pattern.
    case invalidClaims(String)

    public var message: String {
        switch self {
        case .missing: "a token is required (Authorization: Bearer, or the token query parameter)"
        case .unknownToken: "unknown token"
        case .malformed(let why): "malformed token: \(why)"
        case .unsupportedAlgorithm(let why): "unsupported token: \(why)"
        case .badSignature: "invalid token signature"
        case .expired: "token expired"
        case .notYetValid: "token not yet valid (nbf)"
        case .invalidClaims(let why): "invalid token claims: \(why)"
        }
    }

    /// A word for logs and counters.
    public var reason: String {
        switch self {
        case .missing: "missing"
        case .unknownToken: "unknown"
        case .malformed: "malformed"
        case .unsupportedAlgorithm: "algorithm"
        case .badSignature: "signature"
        case .expired: "expired"
        case .notYetValid: "not_yet_valid"
        case .invalidClaims: "claims"
        }
    }
}

/// An accepted token: what it allows and, for a JWT with `exp`, until when.
public struct Credential: Sendable, Equatable {
    public enum Kind: Sendable, Equatable { case staticToken, jwt }
    public let kind: Kind
    public let grant: Grant
    /// Unix time (seconds) after which the token is no longer accepted: `exp` plus the
    /// leeway. A connection authenticated by it is closed then. Nil: never expires.
    public let expiresAt: Double?

    public init(kind: Kind, grant: Grant, expiresAt: Double?) {
        self.kind = kind
        self.grant = grant
        self.expiresAt = expiresAt
    }
}
