/// The client side of the WebSocket opening handshake (RFC 6455 §4.1): the upgrade request
/// to send and the check of the server's answer (parsed by `HTTPResponseParser`).
public struct ClientHandshake: Sendable {
    /// `Host` header value, e.g. `127.0.0.1:8080` (RFC 9110 §7.2).
    public let host: String
    /// Request target in origin-form, e.g. `/ws?token=...`; empty becomes `/`.
    public let path: String
    /// Subprotocols offered, in order of preference (RFC 6455 §4.1 item 10).
    public let subprotocols: [String]
    /// Extra headers sent after the handshake ones (e.g. `Authorization`).
    public let headers: [(String, String)]
    /// The `Sec-WebSocket-Key` sent: base64 of 16 random bytes (RFC 6455 §4.1 item 7).
    public let key: String
    /// Offers permessage-deflate (RFC 7692) with `PerMessageDeflate.clientOffer`.
    public let offersDeflate: Bool

    /// A handshake for `host` and `path`. With `key: nil` a fresh nonce is drawn from the
    /// system generator, as §4.1 item 7 requires a new random one per connection; pass a
    /// key only in tests.
    public init(host: String, path: String, subprotocols: [String] = [], headers: [(String, String)] = [],
                key: String? = nil, offersDeflate: Bool = false) {
        self.offersDeflate = offersDeflate
        self.host = host
        self.path = path.isEmpty ? "/" : path
        self.subprotocols = subprotocols
        self.headers = headers
        if let key {
            self.key = key
        } else {
            var generator = SystemRandomNumberGenerator()
            self.key = Base64.encode((0..<16).map { _ in UInt8.random(in: .min ... .max, using: &generator) })
        }
    }

    /// The upgrade request (RFC 6455 §4.1 items 1–10, §4.2.1): `GET`, HTTP/1.1, `Host`,
    /// `Upgrade: websocket`, `Connection: Upgrade`, the key, version 13, the offered
    /// subprotocols when any, then `headers`.
    public func requestBytes() -> [UInt8] {
        var lines = "GET \(path) HTTP/1.1\r\n"
        var fields: [(String, String)] = [
            ("Host", host),
            ("Upgrade", "websocket"),
            ("Connection", "Upgrade"),
            ("Sec-WebSocket-Key", key),
            ("Sec-WebSocket-Version", ServerHandshake.version),
        ]
        if !subprotocols.isEmpty {
            fields.append(("Sec-WebSocket-Protocol", subprotocols.joined(separator: ", ")))
        }
        if offersDeflate { fields.append(("Sec-WebSocket-Extensions", PerMessageDeflate.clientOffer)) }
        fields += headers
        for (name, value) in fields {
            lines += "\(name): \(value)\r\n"
        }
        lines += "\r\n"
        return Array(lines.utf8)
    }

    /// Checks the server's answer (RFC 6455 §4.1, "the client MUST validate the server's
    /// response") and returns the negotiated subprotocol, or nil when none was selected.
    ///
    /// Fails unless: the status is 101 (the error message names the status received);
    /// `Upgrade` lists `websocket` and `Connection` lists `upgrade` (any case); there is one
    /// `Sec-WebSocket-Accept` equal to `ServerHandshake.acceptValue(forKey: key)`; no
    /// extension was selected unless we offered permessage-deflate, and then only a valid
    /// answer to that offer (§4.1 item 5 of the response checks, RFC 7692 §7.1); and a
    /// `Sec-WebSocket-Protocol`, if present, is a single value we offered (item 6). Errors
    /// carry the status the server answered with.
    /// What permessage-deflate the server agreed to, in a response `validate` accepted; nil
    /// when it declined (or we did not offer).
    public func deflateAgreement(_ response: HTTPResponseHead) -> DeflateAgreement? {
        guard offersDeflate, case .success(let agreement) = PerMessageDeflate.accept(response: response.headers.values("Sec-WebSocket-Extensions")) else {
            return nil
        }
        return agreement
    }

    public func validate(_ response: HTTPResponseHead) throws(HandshakeError) -> String? {
        let status = response.status
        let fields = response.headers
        func failure(_ message: String) -> HandshakeError {
            HandshakeError(status: status, message: message)
        }
        guard status.code == HTTPStatus.switchingProtocols.code else {
            throw failure("expected 101 Switching Protocols, got \(status.code) \(status.reason)")
        }
        guard fields.containsToken("websocket", in: "Upgrade") else {
            throw failure("response Upgrade header does not include websocket")
        }
        guard fields.containsToken("upgrade", in: "Connection") else {
            throw failure("response Connection header does not include Upgrade")
        }
        let expected = ServerHandshake.acceptValue(forKey: key)
        let accepts = fields.values("Sec-WebSocket-Accept")
        guard accepts == [expected] else {
            throw failure(accepts.isEmpty ? "missing Sec-WebSocket-Accept" : "wrong Sec-WebSocket-Accept")
        }
        if offersDeflate {
            if case .failure(let error) = PerMessageDeflate.accept(response: fields.values("Sec-WebSocket-Extensions")) {
                throw failure(error.message)
            }
        } else if !fields.tokens("Sec-WebSocket-Extensions").isEmpty {
            throw failure("server selected an extension that was not offered")
        }
        let selected = fields.values("Sec-WebSocket-Protocol")
        switch selected.count {
        case 0:
            return nil
        case 1 where subprotocols.contains(selected[0]):
            return selected[0]
        default:
            throw failure("server selected a subprotocol that was not offered: \(selected.joined(separator: ", "))")
        }
    }
}
