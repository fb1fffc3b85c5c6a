import Auth
import Topics
import Testing

/// Static tokens from the config file: parsing, lookups, and the Authenticator's order.
struct StaticTokensTests {
    static let config = #"[{"token":"backend-token-0123456789","publish":["orders.>"],"subscribe":[]},"#
        + #"{"token":"viewer-token-0123456789","subscribe":["orders.*","news"]}]"#

    @Test func parsesTokensAndLooksThemUp() throws {
        let tokens = try StaticTokens(json: Array(Self.config.utf8))
        #expect(tokens.count == 2)
        let backend = try #require(tokens.grant(for: "backend-token-0123456789"))
        #expect(try backend.allowsPublish(to: TopicName("orders.new")))
        #expect(try !backend.allowsSubscribe(to: TopicPattern("orders.new")))
        let viewer = try #require(tokens.grant(for: "viewer-token-0123456789"))
        #expect(try viewer.allowsSubscribe(to: TopicPattern("orders.new")))
        #expect(viewer.publish.isEmpty)
        #expect(tokens.grant(for: "viewer-token-012345678") == nil)
        #expect(tokens.grant(for: "") == nil)
    }

    @Test(arguments: [
        ("{}", "array"),
        ("[1]", "object"),
        (#"[{"publish":["a"]}]"#, "missing \"token\""),
        (#"[{"token":"short"}]"#, "at least 16"),
        (#"[{"token":1234567890123456789}]"#, "one string"),
        (#"[{"token":"0123456789abcdef","pub":["a"]}]"#, "unknown key"),
        (#"[{"token":"0123456789abcdef","publish":"a"}]"#, "publish"),
        (#"[{"token":"0123456789abcdef","subscribe":["a..b"]}]"#, "invalid pattern"),
        (#"[{"token":"0123456789abcdef"},{"token":"0123456789abcdef"}]"#, "twice"),
    ])
    func badConfigSaysWhy(_ json: String, _ expected: String) {
        do {
            _ = try StaticTokens(json: Array(json.utf8))
            Issue.record("accepted \(json)")
        } catch {
            #expect(error.message.contains(expected), "\(error.message)")
        }
    }

    @Test func authenticatorTriesStaticTokensThenJWT() throws {
        let secret = Array("0123456789abcdef0123456789abcdef".utf8)
        let both = Authenticator(staticTokens: try StaticTokens(json: Array(Self.config.utf8)),
                                 jwt: JWTVerifier(secret: secret, leeway: 5))
        #expect(both.isEnabled)
        #expect(try both.authenticate("backend-token-0123456789", now: 0).get().kind == .staticToken)
        let jwt = JWTSigner.sign(claims: #"{"bus":{"pub":["x"]}}"#, secret: secret)
        #expect(try both.authenticate(jwt, now: 0).get().kind == .jwt)
        #expect(both.authenticate(nil, now: 0) == .failure(.missing))
        #expect(both.authenticate("", now: 0) == .failure(.missing))
        #expect(both.authenticate("guess-guess-guess", now: 0) == .failure(.unknownToken))
        #expect(both.authenticate("a.b.c", now: 0) != .failure(.unknownToken))

        let staticOnly = Authenticator(staticTokens: try StaticTokens(json: Array(Self.config.utf8)), jwt: nil)
        #expect(staticOnly.authenticate(jwt, now: 0) == .failure(.unknownToken))
        let jwtOnly = Authenticator(staticTokens: StaticTokens(), jwt: JWTVerifier(secret: secret, leeway: 5))
        #expect(jwtOnly.authenticate("backend-token-0123456789", now: 0) != .failure(.unknownToken))
        #expect(!Authenticator(staticTokens: StaticTokens(), jwt: nil).isEnabled)
    }
}
