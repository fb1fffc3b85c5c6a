import Auth
import Foundation
import Frames
import Testing
import Topics

/// HS256 verification: the good path, the RFC 7515 example, and every way a hostile token
/// can be wrong.
struct JWTVerifierTests {
    static let secret = Array("0123456789abcdef0123456789abcdef".utf8)
    static let now = 1_800_000_000.0
    let verifier = JWTVerifier(secret: Self.secret, leeway: 5)

    func verify(_ token: String, now: Double = Self.now) -> Result<Credential, AuthError> { verifier.verify(token, now: now) }
    func sign(_ claims: String, header: String = #"{"alg":"HS256","typ":"JWT"}"#) -> String {
        JWTSigner.sign(claims: claims, secret: Self.secret, header: header)
    }
    func failure(_ result: Result<Credential, AuthError>) -> AuthError? {
        if case .failure(let error) = result { return error }
        return nil
    }

    @Test func nestedClaimsGrantPatterns() throws {
        let token = sign(#"{"sub":"ann","exp":1800000100,"bus":{"pub":["chat.>"],"sub":["chat.*","news"]}}"#)
        let credential = try verify(token).get()
        #expect(credential.kind == .jwt)
        #expect(credential.expiresAt == 1_800_000_105)
        #expect(credential.grant.publish == [try TopicPattern("chat.>")])
        #expect(credential.grant.subscribe == [try TopicPattern("chat.*"), try TopicPattern("news")])
    }

    @Test func flatClaimsGrantPatterns() throws {
        let credential = try verify(sign(#"{"bus.pub":["a.b"],"bus.sub":[">"]}"#)).get()
        #expect(credential.grant.publish == [try TopicPattern("a.b")])
        #expect(credential.grant.subscribe == [try TopicPattern(">")])
        #expect(credential.expiresAt == nil)
    }

    @Test func missingListsGrantNothing() throws {
        let credential = try verify(sign(#"{"sub":"nobody"}"#)).get()
        #expect(credential.grant == Grant(publish: [], subscribe: []))
    }

    /// RFC 7515 Appendix A.1: an HS256 JWS made elsewhere verifies with our HMAC.
    @Test func rfc7515ExampleVerifies() throws {
        let key = try #require(Base64.decode(
            "AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr_T-1qS0gZH75aKtMN3Yj0iPS4hcgUuTwjAzZr1Z9CAow", url: true))
        let token = "eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9"
            + ".eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ"
            + ".dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
        let example = JWTVerifier(secret: key, leeway: 0)
        #expect(try example.verify(token, now: 1_300_819_379).get().expiresAt == 1_300_819_380)
        #expect(failure(example.verify(token, now: 1_300_819_380)) == .expired)
    }

    @Test func expAndNbfHonourTheLeeway() {
        let token = sign(#"{"nbf":1800000000,"exp":1800000060}"#)
        #expect(failure(verify(token, now: Self.now - 4)) == nil)
        #expect(failure(verify(token, now: Self.now - 6)) == .notYetValid)
        #expect(failure(verify(token, now: Self.now + 64)) == nil)
        #expect(failure(verify(token, now: Self.now + 65)) == .expired)
        #expect(failure(verify(sign(#"{"exp":1799999990.5}"#))) == .expired)
    }

    /// Every hostile or broken token is refused, each with its own reason.
    @Test func hostileTokensAreRefused() {
        let good = sign(#"{"bus":{"sub":[">"]}}"#)
        let parts = good.split(separator: ".").map(String.init)
        let noneHeader = JWTSigner.segment(Array(#"{"alg":"none"}"#.utf8))
        let cases: [(String, String, (AuthError) -> Bool)] = [
            ("empty", "", { if case .malformed = $0 { true } else { false } }),
            ("two segments", parts[0] + "." + parts[1], { if case .malformed = $0 { true } else { false } }),
            ("four segments", good + ".x", { if case .malformed = $0 { true } else { false } }),
            ("empty signature", parts[0] + "." + parts[1] + ".", { $0 == .badSignature }),
            ("padding", parts[0] + "=." + parts[1] + "." + parts[2], { if case .malformed = $0 { true } else { false } }),
            ("standard alphabet", parts[0] + "." + parts[1] + "." + parts[2].replacingOccurrences(of: "-", with: "+")
                .replacingOccurrences(of: "_", with: "/") + "+", { if case .malformed = $0 { true } else { false } }),
            ("bad base64", "e!J.e30.AAAA", { if case .malformed = $0 { true } else { false } }),
            ("huge", good + String(repeating: "A", count: 9000), { if case .malformed = $0 { true } else { false } }),
            ("alg none, no signature", noneHeader + "." + parts[1] + ".", { if case .unsupportedAlgorithm = $0 { true } else { false } }),
            ("alg none, signed", sign(#"{}"#, header: #"{"alg":"none"}"#), { if case .unsupportedAlgorithm = $0 { true } else { false } }),
            ("alg HS512", sign(#"{}"#, header: #"{"alg":"HS512"}"#), { if case .unsupportedAlgorithm = $0 { true } else { false } }),
            ("alg RS256", sign(#"{}"#, header: #"{"alg":"RS256"}"#), { if case .unsupportedAlgorithm = $0 { true } else { false } }),
            ("alg lower case", sign(#"{}"#, header: #"{"alg":"hs256"}"#), { if case .unsupportedAlgorithm = $0 { true } else { false } }),
            ("no alg", sign(#"{}"#, header: #"{"typ":"JWT"}"#), { if case .unsupportedAlgorithm = $0 { true } else { false } }),
            ("alg not a string", sign(#"{}"#, header: #"{"alg":256}"#), { if case .unsupportedAlgorithm = $0 { true } else { false } }),
            ("alg twice", sign(#"{}"#, header: #"{"alg":"HS256","alg":"none"}"#), { if case .malformed = $0 { true } else { false } }),
            ("crit", sign(#"{}"#, header: #"{"alg":"HS256","crit":["x"]}"#), { if case .unsupportedAlgorithm = $0 { true } else { false } }),
            ("header not JSON", sign(#"{}"#, header: "nope"), { if case .malformed = $0 { true } else { false } }),
            ("wrong secret", JWTSigner.sign(claims: "{}", secret: Array("another secret, 32 bytes long!!!".utf8)), { $0 == .badSignature }),
            ("tampered payload", parts[0] + "." + JWTSigner.segment(Array(#"{"bus":{"pub":[">"]}}"#.utf8)) + "." + parts[2],
             { $0 == .badSignature }),
            ("truncated signature", parts[0] + "." + parts[1] + "." + parts[2].dropLast(3), { $0 == .badSignature }),
            ("payload not JSON", sign("not json"), { if case .malformed = $0 { true } else { false } }),
            ("payload an array", sign("[1]"), { if case .malformed = $0 { true } else { false } }),
            ("exp a string", sign(#"{"exp":"1900000000"}"#), { if case .invalidClaims = $0 { true } else { false } }),
            ("exp infinite", sign(#"{"exp":1e999}"#), { if case .invalidClaims = $0 { true } else { false } }),
            ("nbf null", sign(#"{"nbf":null}"#), { if case .invalidClaims = $0 { true } else { false } }),
            ("exp twice", sign(#"{"exp":1900000000,"exp":1}"#), { if case .invalidClaims = $0 { true } else { false } }),
            ("expired", sign(#"{"exp":1700000000}"#), { $0 == .expired }),
            ("nbf in the future", sign(#"{"nbf":1900000000}"#), { $0 == .notYetValid }),
            ("bus a list", sign(#"{"bus":["a"]}"#), { if case .invalidClaims = $0 { true } else { false } }),
            ("pub a string", sign(#"{"bus":{"pub":"a.>"}}"#), { if case .invalidClaims = $0 { true } else { false } }),
            ("sub numbers", sign(#"{"bus.sub":[1,2]}"#), { if case .invalidClaims = $0 { true } else { false } }),
            ("sub nested list", sign(#"{"bus.sub":[["a"]]}"#), { if case .invalidClaims = $0 { true } else { false } }),
            ("invalid pattern", sign(#"{"bus.sub":["a..b"]}"#), { if case .invalidClaims = $0 { true } else { false } }),
            ("both forms", sign(#"{"bus":{"pub":["a"]},"bus.sub":["b"]}"#), { if case .invalidClaims = $0 { true } else { false } }),
        ]
        for (name, token, expected) in cases {
            let error = failure(verify(token))
            #expect(error.map(expected) == true, "\(name): \(String(describing: error))")
            // The message never repeats the token.
            if let error, token.count > 8 { #expect(!error.message.contains(token.suffix(8)), "\(name)") }
        }
    }

    /// A deterministic sweep of random mutations of a good token: nothing crashes and only the
    /// untouched token passes.
    @Test func mutatedTokensNeverVerify() {
        let good = Array(sign(#"{"exp":1800000100,"bus":{"pub":["a"],"sub":["a.>"]}}"#).utf8)
        var seed: UInt64 = 0x9E3779B97F4A7C15
        func next() -> UInt64 { seed = seed &* 6364136223846793005 &+ 1442695040888963407; return seed >> 33 }
        let alphabet = Array("ABCXYZabcxyz0189-_.=+/!".utf8)
        for _ in 0..<2000 {
            var token = good
            let index = Int(next() % UInt64(token.count))
            let replacement = alphabet[Int(next() % UInt64(alphabet.count))]
            guard token[index] != replacement else { continue }
            token[index] = replacement
            // Flipping the last signature character's low pad bits can decode to the same bytes: refused as non-canonical.
            #expect(failure(verify(String(decoding: token, as: UTF8.self))) != nil)
        }
    }
}
