import Auth

/// The `auth` section of the configuration: where a server's `Authenticator` comes from.
///
/// A JWT secret comes inline (`--auth-jwt-secret`, handy in tests, visible in `ps`) or from a
/// file (`--auth-jwt-secret-file`, for deployments); static tokens only from JSON (the config
/// file's `"auth": {"tokens": [...]}`). With neither, the broker is open.
public struct AuthSettings: Sendable {
    public var jwtSecret: String?
    public var jwtSecretFile: String?
    public var tokens = StaticTokens()
    /// Seconds of clock skew tolerated on `exp` and `nbf`; small, since it also delays the
    /// close of a connection whose token expired.
    public var leeway: Double = 5

    public init() {}

    public var isConfigured: Bool { jwtSecret != nil || jwtSecretFile != nil || !tokens.isEmpty }

    func validated() throws(ConfigError) {
        if jwtSecret != nil && jwtSecretFile != nil {
            throw ConfigError(option: "auth-jwt-secret", message: "give the secret or a secret file, not both")
        }
        if let secret = jwtSecret, secret.utf8.count < Authenticator.minimumSecretLength {
            throw ConfigError(option: "auth-jwt-secret", message: "must be at least \(Authenticator.minimumSecretLength) bytes")
        }
        if !(leeway >= 0 && leeway <= 300) { throw ConfigError(option: "auth-leeway", message: "must be 0 to 300 seconds") }
    }

    /// The authenticator these settings describe; reads the secret file (a trailing newline
    /// is not part of the secret).
    func authenticator() throws(ConfigError) -> Authenticator {
        var secret = jwtSecret.map { Array($0.utf8) }
        if let path = jwtSecretFile {
            var bytes: [UInt8]
            do throws(Sys.FileReadFailure) { bytes = try Sys.readWholeFile(path) } catch {
                throw ConfigError(option: "auth-jwt-secret-file", message: "'\(path)' \(error)")
            }
            while let last = bytes.last, last == 0x0A || last == 0x0D { bytes.removeLast() }
            guard bytes.count >= Authenticator.minimumSecretLength else {
                throw ConfigError(option: "auth-jwt-secret-file", message: "the secret must be at least \(Authenticator.minimumSecretLength) bytes")
            }
            secret = bytes
        }
        return Authenticator(staticTokens: tokens, jwt: secret.map { JWTVerifier(secret: $0, leeway: leeway) })
    }
}
