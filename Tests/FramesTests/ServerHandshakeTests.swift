import Testing
@testable import Frames

/// RFC 6455 §4.2 server handshake: the accept value, the 101 bytes, and one row per refusal.
struct ServerHandshakeTests {
    static let sampleKey = "dGhlIHNhbXBsZSBub25jZQ=="

    /// A valid upgrade request with `changes` applied: a nil value removes the header, a
    /// value replaces every line of it.
    static func request(method: String = "GET", version: HTTPVersion = .http1_1,
                        _ changes: [(String, String?)] = []) -> HTTPRequest {
        var headers = HTTPHeaders([
            ("Host", "server.example.com"), ("Upgrade", "websocket"), ("Connection", "Upgrade"),
            ("Sec-WebSocket-Key", sampleKey), ("Sec-WebSocket-Version", "13"),
        ])
        for (name, value) in changes {
            if let value { headers.replaceOrAdd(name, value) } else { headers.remove(name) }
        }
        return HTTPRequest(method: method, target: "/ws", version: version, headers: headers)
    }

    /// RFC 6455 §1.3 worked example.
    @Test func acceptValueMatchesRFCSample() {
        #expect(ServerHandshake.acceptValue(forKey: Self.sampleKey) == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=")
        #expect(ServerHandshake.acceptValue(forKey: "x3JJHMbDL1EzLkh9GBhXDw==") == "HSmrc0sMlYUkAGmm5OPpG2HaGWk=")
    }

    @Test func responseBytesAreExact() {
        let plain = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            + "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n"
        #expect(ServerHandshake.response(key: Self.sampleKey, subprotocol: nil) == Array(plain.utf8))
        let chat = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            + "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\nSec-WebSocket-Protocol: chat\r\n\r\n"
        #expect(ServerHandshake.response(key: Self.sampleKey, subprotocol: "chat") == Array(chat.utf8))
    }

    /// The 101 written from an upgrade (its key held inline, no `String`) is the 101 that
    /// `response(key:)` returns, for a validated key and for a caller's key of another length.
    @Test func responseWrittenFromAnUpgradeMatchesResponseForItsKey() throws {
        let validated = try ServerHandshake.validate(Self.request())
        let other = UpgradeRequest(key: "short", offeredSubprotocols: [])
        #expect(validated.key == Self.sampleKey)
        #expect(other.key == "short")
        #expect(validated == UpgradeRequest(key: Self.sampleKey, offeredSubprotocols: []))
        let cases: [(UpgradeRequest, String?, String?)] = [
            (validated, nil, nil), (validated, "chat", "permessage-deflate"), (other, "x\r\ny", nil),
        ]
        for (upgrade, subprotocol, extensions) in cases {
            let count = ServerHandshake.responseCount(subprotocol: subprotocol, extensions: extensions)
            let written = [UInt8](unsafeUninitializedCapacity: count) { out, initialized in
                ServerHandshake.writeResponse(to: upgrade, subprotocol: subprotocol, extensions: extensions,
                                              into: UnsafeMutableRawBufferPointer(out))
                initialized = count
            }
            #expect(written == ServerHandshake.response(key: upgrade.key, subprotocol: subprotocol, extensions: extensions))
        }
    }

    @Test func validRequestYieldsKeyAndOfferedSubprotocols() throws {
        var request = Self.request([("Sec-WebSocket-Protocol", "chat, superChat")])
        request.headers.add("sec-websocket-protocol", " v2.bus ,, x ")
        let upgrade = try ServerHandshake.validate(request)
        #expect(upgrade.key == Self.sampleKey)
        #expect(upgrade.offeredSubprotocols == ["chat", "superChat", "v2.bus", "x"])
        #expect(upgrade.selectSubprotocol(from: ["x", "superChat"]) == "superChat")
        #expect(upgrade.selectSubprotocol(from: ["SUPERCHAT"]) == nil)
    }

    /// Token lists and case variations real clients send.
    @Test(arguments: [
        [("Connection", "keep-alive, Upgrade")],
        [("Connection", "upgrade")],
        [("Connection", "Upgrade,keep-alive")],
        [("Upgrade", "WebSocket")],
        [("Upgrade", "h2c, websocket")],
        [("upgrade", "WEBSOCKET"), ("CONNECTION", "UPGRADE")],
        [("Host", "")], // RFC 9112 §3.2: an empty Host is allowed
    ] as [[(String, String?)]])
    func acceptsTokenListsAndCaseVariants(changes: [(String, String?)]) throws {
        let upgrade = try ServerHandshake.validate(Self.request(changes))
        #expect(upgrade.offeredSubprotocols == [])
    }

    @Test func acceptsLaterHTTPVersions() throws {
        _ = try ServerHandshake.validate(Self.request(version: HTTPVersion(major: 1, minor: 2)))
    }

    struct Rejection: Sendable, CustomTestStringConvertible {
        let name: String
        let request: HTTPRequest
        let status: HTTPStatus
        let extraHeaders: [(String, String)]
        var testDescription: String { name }
    }

    /// Every refusal, in check order (RFC 6455 §4.2.1, §4.4).
    static let rejections: [Rejection] = [
        Rejection(name: "POST", request: request(method: "POST"), status: .methodNotAllowed,
                  extraHeaders: [("Allow", "GET")]),
        Rejection(name: "lowercase get", request: request(method: "get"), status: .methodNotAllowed,
                  extraHeaders: [("Allow", "GET")]),
        Rejection(name: "HTTP/1.0", request: request(version: .http1_0), status: .badRequest, extraHeaders: []),
        Rejection(name: "no Host", request: request([("Host", nil)]), status: .badRequest, extraHeaders: []),
        Rejection(name: "two Hosts", request: { var r = request(); r.headers.add("host", "b"); return r }(),
                  status: .badRequest, extraHeaders: []),
        Rejection(name: "no Upgrade", request: request([("Upgrade", nil)]), status: .upgradeRequired,
                  extraHeaders: [("Upgrade", "websocket"), ("Connection", "Upgrade")]),
        Rejection(name: "Upgrade h2c", request: request([("Upgrade", "h2c")]), status: .upgradeRequired,
                  extraHeaders: [("Upgrade", "websocket"), ("Connection", "Upgrade")]),
        Rejection(name: "Upgrade websockets", request: request([("Upgrade", "websockets")]), status: .upgradeRequired,
                  extraHeaders: [("Upgrade", "websocket"), ("Connection", "Upgrade")]),
        Rejection(name: "no Connection", request: request([("Connection", nil)]), status: .badRequest, extraHeaders: []),
        Rejection(name: "Connection keep-alive", request: request([("Connection", "keep-alive")]),
                  status: .badRequest, extraHeaders: []),
        Rejection(name: "Connection upgraded", request: request([("Connection", "upgraded")]),
                  status: .badRequest, extraHeaders: []),
        Rejection(name: "no version", request: request([("Sec-WebSocket-Version", nil)]), status: .upgradeRequired,
                  extraHeaders: [("Sec-WebSocket-Version", "13"), ("Upgrade", "websocket"), ("Connection", "Upgrade")]),
        Rejection(name: "version 8", request: request([("Sec-WebSocket-Version", "8")]), status: .upgradeRequired,
                  extraHeaders: [("Sec-WebSocket-Version", "13"), ("Upgrade", "websocket"), ("Connection", "Upgrade")]),
        Rejection(name: "version list", request: request([("Sec-WebSocket-Version", "13, 8")]),
                  status: .upgradeRequired, extraHeaders: [("Sec-WebSocket-Version", "13"), ("Upgrade", "websocket"), ("Connection", "Upgrade")]),
        Rejection(name: "no key", request: request([("Sec-WebSocket-Key", nil)]), status: .badRequest, extraHeaders: []),
        Rejection(name: "key not base64", request: request([("Sec-WebSocket-Key", "not base64!")]),
                  status: .badRequest, extraHeaders: []),
        Rejection(name: "key 15 bytes", request: request([("Sec-WebSocket-Key", Base64.encode([UInt8](repeating: 1, count: 15)))]),
                  status: .badRequest, extraHeaders: []),
        Rejection(name: "key 17 bytes", request: request([("Sec-WebSocket-Key", Base64.encode([UInt8](repeating: 1, count: 17)))]),
                  status: .badRequest, extraHeaders: []),
        Rejection(name: "key unpadded", request: request([("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ")]),
                  status: .badRequest, extraHeaders: []),
        Rejection(name: "two keys", request: { var r = request(); r.headers.add("Sec-WebSocket-Key", sampleKey); return r }(),
                  status: .badRequest, extraHeaders: []),
        // Order: several faults at once get the answer of the first check.
        Rejection(name: "POST over HTTP/1.0 without headers",
                  request: HTTPRequest(method: "POST", target: "/", version: .http1_0),
                  status: .methodNotAllowed, extraHeaders: [("Allow", "GET")]),
        Rejection(name: "bad version and bad key", request: request([("Sec-WebSocket-Version", "7"), ("Sec-WebSocket-Key", "x")]),
                  status: .upgradeRequired, extraHeaders: [("Sec-WebSocket-Version", "13"), ("Upgrade", "websocket"), ("Connection", "Upgrade")]),
    ]

    @Test(arguments: rejections)
    func rejects(row: Rejection) {
        do {
            let upgrade = try ServerHandshake.validate(row.request)
            Issue.record("accepted: \(upgrade)")
        } catch {
            #expect(error.status == row.status)
            #expect(error.extraHeaders.map(\.0) == row.extraHeaders.map(\.0))
            #expect(error.extraHeaders.map(\.1) == row.extraHeaders.map(\.1))
            #expect(!error.message.isEmpty)
        }
    }

    @Test func isUpgradeRequestLooksOnlyAtUpgradeHeader() {
        #expect(ServerHandshake.isUpgradeRequest(Self.request()))
        #expect(ServerHandshake.isUpgradeRequest(Self.request(method: "POST", [("Upgrade", "foo, WebSocket")])))
        #expect(!ServerHandshake.isUpgradeRequest(Self.request([("Upgrade", nil)])))
        #expect(!ServerHandshake.isUpgradeRequest(HTTPRequest(method: "GET", target: "/metrics")))
    }

    /// From bytes on the wire to bytes on the wire.
    @Test func parsedRequestValidatesAndAnswers() throws {
        let bytes = Array(HTTPRequestParserTests.sampleHead.utf8)
        var parser = HTTPRequestParser()
        guard case .complete(let request, _) = bytes.withUnsafeBytes({ parser.parse($0) }) else {
            Issue.record("sample head did not parse")
            return
        }
        let upgrade = try ServerHandshake.validate(request)
        #expect(upgrade.offeredSubprotocols == ["chat", "superchat"])
        let response = ServerHandshake.response(key: upgrade.key, subprotocol: upgrade.selectSubprotocol(from: ["chat"]))
        #expect(String(decoding: response, as: UTF8.self).contains("Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"))
    }
}
