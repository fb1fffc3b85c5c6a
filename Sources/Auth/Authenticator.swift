/// Turns the token a client presents into a `Credential`, or refuses it. One per server,
/// immutable, shared by every loop.
///
/// Static tokens are tried first (a hash and a few constant-time compares), then, when a JWT
/// secret is configured, the token is verified as an HS256 JWT. No token, or one neither
/// accepts, is refused: once any auth is configured nothing is open.
public struct Authenticator: Sendable {
    public let staticTokens: StaticTokens
    public let jwt: JWTVerifier?

    /// Shortest JWT secret accepted: RFC 7518 §3.2 asks for a key at least as long as the
    /// hash output (32 bytes for HS256).
    public static let minimumSecretLength = 32

    public init(staticTokens: StaticTokens, jwt: JWTVerifier?) {
        self.staticTokens = staticTokens
        self.jwt = jwt
    }

    /// Nothing configured: the broker is open.
    public var isEnabled: Bool { !staticTokens.isEmpty || jwt != nil }

    public func authenticate(_ token: String?, now: Double) -> Result<Credential, AuthError> {
        guard let token, !token.isEmpty else { return .failure(.missing) }
        if !staticTokens.isEmpty, let grant = staticTokens.grant(for: token) {
            return .success(Credential(kind: .staticToken, grant: grant, expiresAt: nil))
        }
        // With static tokens too, only a JWT-shaped token gets the JWT's specific answer.
        let looksLikeJWT = token.utf8.count(where: { $0 == UInt8(ascii: ".") }) == 2
        if let jwt, staticTokens.isEmpty || looksLikeJWT { return jwt.verify(token, now: now) }
        return .failure(.unknownToken)
    }
}
