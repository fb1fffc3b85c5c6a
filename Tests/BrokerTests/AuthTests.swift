import Auth
import BusProtocol
import Foundation
import Frames
import Testing
@testable import Broker

/// Authentication and per-topic permissions over real sockets: a client without the right
/// token can neither subscribe to nor publish on a protected topic, over WebSocket or HTTP.
@Suite(.serialized) struct AuthTests {
    static let secret = "test-secret-of-at-least-32-bytes!!"
    static let publisherToken = "publisher-token-0123456789"
    static let viewerToken = "viewer-token-0123456789"
    static let tokensJSON = #"[{"token":"\#(publisherToken)","publish":["orders.>"],"subscribe":[]},"#
        + #"{"token":"\#(viewerToken)","publish":[],"subscribe":["orders.*"]}]"#

    static func server(leeway: Double = 5) throws -> LiveServer {
        try LiveServer { config in
            config.auth.jwtSecret = secret
            config.auth.tokens = try! StaticTokens(json: Array(tokensJSON.utf8))
            config.auth.leeway = leeway
        }
    }

    static func jwt(_ claims: String) -> String { JWTSigner.sign(claims: claims, secret: Array(secret.utf8)) }
    static func bearer(_ token: String) -> [(String, String)] { [("Authorization", "Bearer \(token)")] }
    static var now: Int { Int(Date().timeIntervalSince1970) }

    func isError(_ message: ServerMessage, _ code: String) -> Bool {
        if case .error(code, _, _, _, _) = message { return true }
        return false
    }
    func isAck(_ message: ServerMessage) -> Bool {
        if case .ack = message { return true }
        return false
    }

    @Test func upgradeWithoutAValidTokenGets401() throws {
        let server = try Self.server()
        defer { server.stop() }
        let missing = try RawSocket(port: server.port)
        let head = missing.upgrade(path: "/bus")
        #expect(head.hasPrefix("HTTP/1.1 401"), "\(head)")
        #expect(head.contains("WWW-Authenticate: Bearer realm=\"bus\""))
        #expect(!head.contains("invalid_token"))
        let wrong = try RawSocket(port: server.port)
        let wrongHead = wrong.upgrade(path: "/bus?token=not-a-token-of-ours")
        #expect(wrongHead.hasPrefix("HTTP/1.1 401") && wrongHead.contains("error=\"invalid_token\""), "\(wrongHead)")
        #expect(throws: WebSocketClient.ClientError.self) { try BusClient(port: server.port, headers: Self.bearer("nope")) }
        let metrics = try HTTPResult(port: server.port, "/metrics")
        #expect((metrics.sample("bus_auth_failures_total") ?? 0) >= 3)
    }

    @Test func webSocketSubscribeAndPublishObeyTheGrant() throws {
        let server = try Self.server()
        defer { server.stop() }
        let viewer = try BusClient(port: server.port, headers: Self.bearer(Self.viewerToken))
        #expect(isAck(try viewer.subscribe("orders.new")))
        // `>` and `orders.>` are wider than the granted `orders.*`: refused, connection stays open.
        #expect(isError(try viewer.subscribe(">"), "forbidden"))
        #expect(isError(try viewer.subscribe("orders.>"), "forbidden"))
        #expect(isError(try viewer.subscribe("secret.x"), "forbidden"))
        #expect(isError(try #require(try viewer.publish("orders.new", json: "1")), "forbidden"))
        #expect(isError(try #require(try viewer.publish("orders.new", binary: [9])), "forbidden"))
        #expect(isAck(try viewer.subscribe("orders.*")))

        let publisher = try BusClient(port: server.port, headers: Self.bearer(Self.publisherToken))
        #expect(isError(try publisher.subscribe("orders.new"), "forbidden"))
        #expect(isError(try #require(try publisher.publish("other.topic", json: "2")), "forbidden"))
        #expect(isError(try #require(try publisher.publish("orders.new", binary: [1])), "forbidden") == false)
        #expect(isAck(try #require(try publisher.publish("orders.new", json: "3"))))
        guard case .message("orders.new", _, 1, [1]) = try viewer.next() else { Issue.record("binary delivery"); return }
        guard case .message("orders.new", _, 2, let json) = try viewer.next() else { Issue.record("json delivery"); return }
        #expect(json == Array("3".utf8))
        let metrics = try HTTPResult(port: server.port, "/metrics")
        #expect((metrics.sample("bus_permission_denied_total") ?? 0) >= 6)
        viewer.close()
        publisher.close()
    }

    @Test func httpPublishObeysTheSameRules() throws {
        let server = try Self.server()
        defer { server.stop() }
        let subscriber = try BusClient(port: server.port, path: "/bus?token=\(Self.viewerToken)")
        try subscriber.subscribe("orders.*")
        func post(_ path: String, _ extra: String = "") -> String {
            let raw = try! RawSocket(port: server.port)
            raw.send("POST \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 1\r\n\(extra)\r\n7")
            return HTTPPublishTests.responses(raw, count: 1).first ?? ""
        }
        let none = post("/publish/orders.new")
        #expect(none.hasPrefix("HTTP/1.1 401") && none.contains("WWW-Authenticate: Bearer") && none.contains("\"code\":\"unauthorized\""), "\(none)")
        #expect(post("/publish/orders.new", "Authorization: Bearer wrong-wrong-wrong\r\n").hasPrefix("HTTP/1.1 401"))
        let viewer = post("/publish/orders.new", "Authorization: Bearer \(Self.viewerToken)\r\n")
        #expect(viewer.hasPrefix("HTTP/1.1 403") && viewer.contains("\"code\":\"forbidden\""), "\(viewer)")
        #expect(post("/publish/other", "Authorization: Bearer \(Self.publisherToken)\r\n").hasPrefix("HTTP/1.1 403"))
        #expect(post("/publish/orders.new", "Authorization: Bearer \(Self.publisherToken)\r\n").hasPrefix("HTTP/1.1 200"))
        #expect(post("/publish/orders.new?token=\(Self.publisherToken)").hasPrefix("HTTP/1.1 200"))
        let token = Self.jwt(#"{"bus":{"pub":["orders.new"]}}"#)
        #expect(post("/publish/orders.new", "Authorization: bearer \(token)\r\n").hasPrefix("HTTP/1.1 200"))
        for seq in 1...3 {
            guard case .message("orders.new", _, UInt64(seq), _) = try subscriber.next() else { Issue.record("delivery \(seq)"); return }
        }
        subscriber.close()
    }

    @Test func historyNeedsSubscribeRights() throws {
        let server = try Self.server()
        defer { server.stop() }
        #expect(try HTTPResult(port: server.port, "/history/orders.new").status == 401)
        #expect(try HTTPResult(port: server.port, "/history/orders.new?token=\(Self.publisherToken)").status == 403)
        #expect(try HTTPResult(port: server.port, "/history/orders.new?token=\(Self.viewerToken)").status == 200)
        #expect(try HTTPResult(port: server.port, "/healthz").status == 200, "health checks need no token")
    }

    @Test func jwtsWorkFromQueryOrHeaderAndBadOnesAreRefused() throws {
        let server = try Self.server()
        defer { server.stop() }
        let good = Self.jwt(#"{"exp":\#(Self.now + 600),"bus":{"pub":["chat.>"],"sub":["chat.*"]}}"#)
        let byQuery = try BusClient(port: server.port, path: "/bus?token=\(good)")
        #expect(isAck(try byQuery.subscribe("chat.room")))
        #expect(isError(try byQuery.subscribe("chat.>"), "forbidden"))
        let byHeader = try BusClient(port: server.port, headers: Self.bearer(good))
        #expect(isAck(try #require(try byHeader.publish("chat.room", json: "\"hi\""))))
        guard case .message("chat.room", _, 1, _) = try byQuery.next() else { Issue.record("no delivery"); return }

        let expired = Self.jwt(#"{"exp":\#(Self.now - 60),"bus":{"sub":["chat.*"]}}"#)
        let none = JWTSigner.segment(Array(#"{"alg":"none"}"#.utf8)) + "." + JWTSigner.segment(Array(#"{"bus":{"sub":[">"]}}"#.utf8)) + "."
        let future = Self.jwt(#"{"nbf":\#(Self.now + 600)}"#)
        let forged = JWTSigner.sign(claims: #"{"bus":{"sub":[">"]}}"#, secret: Array("a different secret of 32 bytes!!!".utf8))
        for bad in [expired, none, future, forged] {
            let raw = try RawSocket(port: server.port)
            #expect(raw.upgrade(path: "/bus?token=\(bad)").hasPrefix("HTTP/1.1 401"))
        }
        byQuery.close()
        byHeader.close()
    }

    @Test func connectionIsClosedWith1008WhenItsTokenExpires() throws {
        let server = try Self.server(leeway: 0)
        defer { server.stop() }
        let exp = Self.now + 2
        let token = Self.jwt(#"{"exp":\#(exp),"bus":{"sub":["t"]}}"#)
        let client = try BusClient(port: server.port, headers: Self.bearer(token))
        #expect(isAck(try client.subscribe("t")))
        do {
            while true { _ = try client.next(timeout: 10) }
        } catch let closed as ClosedByServer {
            #expect(closed.code == 1008)
            #expect(closed.reason == "token expired")
            // Reported, not asserted (no timing assertions): the wheel's 250 ms tick bounds it.
            print(String(format: "JWT connection closed %.3f s after exp", Date().timeIntervalSince1970 - Double(exp)))
        }
    }

    @Test func noAuthConfiguredLeavesTheBrokerOpen() throws {
        let server = try LiveServer()
        defer { server.stop() }
        let client = try BusClient(port: server.port)
        #expect(isAck(try client.subscribe(">")))
        #expect(isAck(try #require(try client.publish("any.topic", json: "1"))))
        client.close()
    }

    /// Tokens reach the server in headers and query strings; none may reach its log.
    @Test func logNeverShowsATokenAndSaysAuthIsOn() throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("bus-auth-\(getpid()).json")
        try #"{"auth":{"jwt-secret":"\#(Self.secret)","tokens":\#(Self.tokensJSON)}}"#.write(to: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: file) }
        let server = try ServerProcess(["--loops", "2", "--log-level", "debug", "--config", file.path])
        let jwt = Self.jwt(#"{"bus":{"sub":["a"]}}"#)
        let wrongJWT = jwt.dropLast(3) + "AAA"
        let attempts = ["/bus?token=\(Self.viewerToken)", "/bus?a=1&token=\(wrongJWT)", "/bus?%74oken=wrong-token-abcdefgh",
                        "/bus?token=\(jwt)"]
        for path in attempts {
            let raw = try RawSocket(port: server.port)
            _ = raw.upgrade(path: path)
        }
        let client = try BusClient(port: server.port, headers: Self.bearer(Self.publisherToken))
        _ = try client.subscribe("orders.x")  // forbidden, logged at debug
        client.close()
        _ = try HTTPResult(port: server.port, "/history/a?token=bad-history-token-123")
        let log = server.stopAndReadLog()
        #expect(log.contains("msg=\"authentication required\" static_tokens=2 jwt=HS256"), "\(log)")
        #expect(!log.contains("no authentication configured"))
        #expect(log.components(separatedBy: "msg=\"authentication failed\"").count - 1 == 3, "\(log)")
        #expect(log.contains("token=REDACTED"))
        for secret in [Self.viewerToken, Self.publisherToken, String(wrongJWT), jwt, "wrong-token-abcdefgh", "bad-history-token-123",
                       Self.secret, String(jwt.prefix(20))] {
            #expect(!log.contains(secret), "the log shows \(secret)")
        }
    }
}

/// The pure helpers behind the wiring.
struct AuthHelperTests {
    @Test(arguments: [
        ("/bus", "/bus"),
        ("/bus?token=abc", "/bus?token=REDACTED"),
        ("/bus?a=1&token=abc&b=2", "/bus?a=1&token=REDACTED&b=2"),
        ("/bus?%74oken=abc", "/bus?%74oken=REDACTED"),
        ("/bus?token", "/bus?token=REDACTED"),
        ("/bus?tokens=x", "/bus?tokens=x"),
    ])
    func requestTargetsAreRedacted(_ target: String, _ expected: String) {
        #expect(RequestTarget.redacted(target) == expected)
    }

    @Test func tokenComesFromTheBearerHeaderFirstThenTheQuery() {
        func request(_ target: String, _ authorization: String?) -> HTTPRequest {
            var headers = HTTPHeaders()
            if let authorization { headers.add("Authorization", authorization) }
            return HTTPRequest(method: "GET", target: target, headers: headers)
        }
        #expect(Connection.presentedToken(request("/bus", "Bearer abc")) == "abc")
        #expect(Connection.presentedToken(request("/bus", "bearer  abc")) == "abc")
        #expect(Connection.presentedToken(request("/bus?token=q", "Bearer h")) == "h")
        #expect(Connection.presentedToken(request("/bus?token=q%2Bx", nil)) == "q+x")
        #expect(Connection.presentedToken(request("/bus", "Basic dXNlcjpwYXNz")) == "")
        #expect(Connection.presentedToken(request("/bus", nil)) == nil)
    }

    @Test func configFileAndFlagsConfigureAuth() throws {
        let file = ConfigFile(path: "bus.json", contents: Array(
            #"{"auth":{"jwt-secret-file":"/dev/null","leeway":2,"tokens":[{"token":"0123456789abcdef","subscribe":["a.>"]}]}}"#.utf8))
        let options = try ServerOptions.parse([], environment: [:], configFile: file)
        #expect(options.config.auth.jwtSecretFile == "/dev/null")
        #expect(options.config.auth.leeway == 2)
        #expect(options.config.auth.tokens.count == 1)
        #expect(options.config.auth.isConfigured)
        // /dev/null holds no secret of 32 bytes: refused when the server builds its authenticator.
        #expect(throws: ConfigError.self) { try options.config.auth.authenticator() }

        let flags = try ServerOptions.parse(["--auth-jwt-secret", "0123456789abcdef0123456789abcdef"], environment: [:])
        #expect(try flags.config.auth.authenticator().jwt != nil)
        #expect(!(try ServerOptions.parse([], environment: [:])).config.auth.isConfigured)
        #expect(ServerOptions.helpText.contains("--auth-jwt-secret SECRET"))
        #expect(ServerOptions.helpText.contains("[BUS_AUTH_TOKENS; default: none]"))
    }

    @Test(arguments: [
        (["--auth-jwt-secret", "short"], "auth-jwt-secret"),
        (["--auth-jwt-secret", "0123456789abcdef0123456789abcdef", "--auth-jwt-secret-file", "/x"], "auth-jwt-secret"),
        (["--auth-tokens", "[{\"token\":\"short\"}]"], "auth-tokens"),
        (["--auth-tokens", "{}"], "auth-tokens"),
        (["--auth-leeway", "-1"], "auth-leeway"),
    ])
    func badAuthOptionsNameTheOption(_ arguments: [String], _ option: String) {
        do {
            _ = try ServerOptions.parse(arguments, environment: [:])
            Issue.record("accepted \(arguments)")
        } catch {
            #expect(error.option == option, "\(error)")
        }
    }

    @Test func badTokensInTheConfigFileSayWhere() {
        let file = ConfigFile(path: "bus.json", contents: Array(#"{"auth":{"tokens":[{"token":"0123456789abcdef","pub":[]}]}}"#.utf8))
        do {
            _ = try ServerOptions.parse([], environment: [:], configFile: file)
            Issue.record("accepted")
        } catch {
            #expect(error.description.hasPrefix("bus.json: line 1, column 19: auth.tokens: tokens[0]: unknown key"), "\(error)")
        }
    }
}

/// bus-cli presents a token with --token (or BUS_TOKEN).
@Suite(.serialized) struct AuthCLITests {
    @Test func busCLIPublishesAndSubscribesWithAToken() throws {
        let server = try AuthTests.server()
        defer { server.stop() }
        let url = "ws://127.0.0.1:\(server.port)"
        let refused = try CLITests.run(["pub", "orders.a", "x", "--url", url])
        #expect(refused.0 != 0 && refused.2.contains("401"), "\(refused.2)")
        let forbidden = try CLITests.run(["pub", "other", "x", "--url", url, "--token", AuthTests.publisherToken])
        #expect(forbidden.0 == 1 && forbidden.2.hasPrefix("bus-cli: forbidden"), "\(forbidden.2)")
        #expect(try CLITests.run(["pub", "orders.a", "hello", "--url", url, "--token", AuthTests.publisherToken]).0 == 0)
        let (status, printed, _) = try CLITests.run(["sub", "orders.a", "--last", "1", "--count", "1", "--url", url,
                                                     "--token", AuthTests.viewerToken])
        #expect(status == 0 && printed == "hello\n")
    }
}
