import Frames

/// Makes HS256 JWTs: the broker only verifies, but tests and tools need tokens to present.
public enum JWTSigner {
    /// `header.payload.signature` for a claims object given as JSON text, with the header
    /// `{"alg":"HS256","typ":"JWT"}` unless another header is given (tests forge bad ones).
    public static func sign(claims: String, secret: some Collection<UInt8>,
                            header: String = #"{"alg":"HS256","typ":"JWT"}"#) -> String {
        let input = segment(Array(header.utf8)) + "." + segment(Array(claims.utf8))
        return input + "." + segment(HMACSHA256.mac(key: secret, message: input.utf8))
    }

    /// base64url without padding (RFC 7515 §2).
    public static func segment(_ bytes: [UInt8]) -> String { Base64.encode(bytes, url: true, padding: false) }
}
