import Testing
@testable import Frames

/// RFC 6455 §4.1 client handshake: the request bytes and the checks of the answer.
struct ClientHandshakeTests {
    static let key = "dGhlIHNhbXBsZSBub25jZQ=="
    static let accept = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="

    static func handshake(subprotocols: [String] = ["bus.v1", "chat"]) -> ClientHandshake {
        ClientHandshake(host: "127.0.0.1:8080", path: "/ws?token=t", subprotocols: subprotocols,
                        headers: [("Authorization", "Bearer x")], key: key)
    }

    /// A valid 101 with `changes` applied (nil removes, a value replaces).
    static func response(status: HTTPStatus = .switchingProtocols, _ changes: [(String, String?)] = []) -> HTTPResponseHead {
        var headers = HTTPHeaders([("Upgrade", "websocket"), ("Connection", "Upgrade"), ("Sec-WebSocket-Accept", accept)])
        for (name, value) in changes {
            if let value { headers.replaceOrAdd(name, value) } else { headers.remove(name) }
        }
        return HTTPResponseHead(status: status, headers: headers)
    }

    @Test func requestBytesAreExact() {
        let expected = "GET /ws?token=t HTTP/1.1\r\nHost: 127.0.0.1:8080\r\nUpgrade: websocket\r\n"
            + "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
            + "Sec-WebSocket-Protocol: bus.v1, chat\r\nAuthorization: Bearer x\r\n\r\n"
        #expect(Self.handshake().requestBytes() == Array(expected.utf8))
    }

    @Test func emptyPathBecomesSlashAndNoProtocolHeaderWithoutSubprotocols() {
        let bytes = ClientHandshake(host: "h", path: "", key: Self.key).requestBytes()
        let text = String(decoding: bytes, as: UTF8.self)
        #expect(text.hasPrefix("GET / HTTP/1.1\r\n"))
        #expect(!text.contains("Sec-WebSocket-Protocol"))
    }

    /// Our request passes our own server checks: the two halves agree.
    @Test func requestPassesServerValidation() throws {
        let bytes = Self.handshake().requestBytes()
        var parser = HTTPRequestParser()
        guard case .complete(let request, let consumed) = bytes.withUnsafeBytes({ parser.parse($0) }) else {
            Issue.record("request did not parse")
            return
        }
        #expect(consumed == bytes.count)
        let upgrade = try ServerHandshake.validate(request)
        #expect(upgrade.key == Self.key)
        #expect(upgrade.offeredSubprotocols == ["bus.v1", "chat"])
        #expect(request.queryItem("token") == "t")
        let answer = ServerHandshake.response(key: upgrade.key, subprotocol: "chat")
        var responseParser = HTTPResponseParser()
        guard case .complete(let head, _) = answer.withUnsafeBytes({ responseParser.parse($0) }) else {
            Issue.record("response did not parse")
            return
        }
        #expect(try Self.handshake().validate(head) == "chat")
    }

    @Test func randomKeysAreSixteenBytesAndFresh() {
        let a = ClientHandshake(host: "h", path: "/")
        let b = ClientHandshake(host: "h", path: "/")
        #expect(Base64.decode(a.key)?.count == 16)
        #expect(a.key != b.key)
    }

    @Test func acceptsValidResponses() throws {
        #expect(try Self.handshake().validate(Self.response()) == nil)
        #expect(try Self.handshake().validate(Self.response([("Sec-WebSocket-Protocol", "bus.v1")])) == "bus.v1")
        let casual = Self.response([("Upgrade", "WebSocket"), ("Connection", "keep-alive, upgrade")])
        #expect(try Self.handshake().validate(casual) == nil)
    }

    @Test(arguments: [
        ("not 101", response(status: .forbidden), "403 Forbidden"),
        ("200", response(status: .ok), "200 OK"),
        ("no Upgrade", response([("Upgrade", nil)]), "Upgrade"),
        ("Upgrade h2c", response([("Upgrade", "h2c")]), "Upgrade"),
        ("no Connection", response([("Connection", nil)]), "Connection"),
        ("no accept", response([("Sec-WebSocket-Accept", nil)]), "missing Sec-WebSocket-Accept"),
        ("wrong accept", response([("Sec-WebSocket-Accept", "HSmrc0sMlYUkAGmm5OPpG2HaGWk=")]), "wrong Sec-WebSocket-Accept"),
        ("accept case", response([("Sec-WebSocket-Accept", "S3PPLMBITXAQ9KYGZZHZRBK+XOO=")]), "wrong Sec-WebSocket-Accept"),
        ("extension", response([("Sec-WebSocket-Extensions", "permessage-deflate")]), "extension"),
        ("unoffered protocol", response([("Sec-WebSocket-Protocol", "other")]), "not offered: other"),
        ("protocol case", response([("Sec-WebSocket-Protocol", "CHAT")]), "not offered"),
        ("protocol list", response([("Sec-WebSocket-Protocol", "chat, bus.v1")]), "not offered"),
    ] as [(String, HTTPResponseHead, String)])
    func rejectsBadResponses(name: String, response: HTTPResponseHead, messagePart: String) {
        do {
            let chosen = try Self.handshake().validate(response)
            Issue.record("\(name): accepted with \(String(describing: chosen))")
        } catch {
            #expect(error.message.contains(messagePart), "\(name): \(error.message)")
            #expect(error.status == response.status)
        }
    }

    @Test func protocolWithoutOfferIsRejected() {
        let response = Self.response([("Sec-WebSocket-Protocol", "chat")])
        #expect(throws: HandshakeError.self) { try Self.handshake(subprotocols: []).validate(response) }
    }

    @Test func twoProtocolLinesAreRejected() {
        var response = Self.response([("Sec-WebSocket-Protocol", "chat")])
        response.headers.add("Sec-WebSocket-Protocol", "chat")
        #expect(throws: HandshakeError.self) { try Self.handshake().validate(response) }
    }
}
