/// The server side of the WebSocket opening handshake (RFC 6455 §4.2): checks the upgrade
/// request and builds the 101 answer. Pure functions; the connection calls them once its
/// `HTTPRequestParser` has a complete head.
public enum ServerHandshake {
    /// The GUID appended to the key before hashing (RFC 6455 §1.3, §4.2.2 item 5.4).
    public static let magicGUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

    /// The only protocol version we speak (RFC 6455 §4.1 item 9).
    public static let version = "13"

    /// Sent with every 426: RFC 9110 §15.5.22 requires `Upgrade` on a 426, and §7.8 requires
    /// `Connection: upgrade` wherever `Upgrade` is sent (next to the `Connection: close` of
    /// `HandshakeError.response()`, which is the same as `Connection: Upgrade, close`).
    static let upgradeHeaders = [("Upgrade", "websocket"), ("Connection", "Upgrade")]

    /// Checks an upgrade request (RFC 6455 §4.2.1) and returns its key and offered
    /// subprotocols.
    ///
    /// Checks run in a fixed order so each bad request has one answer:
    /// 1. method `GET`, else 405 with `Allow: GET` (§4.2.1 item 1; methods are
    ///    case-sensitive, RFC 9110 §9.1);
    /// 2. HTTP/1.1 or later, else 400 (§4.2.1 item 1);
    /// 3. exactly one `Host`, else 400 (§4.2.1 item 2, RFC 9112 §3.2);
    /// 4. `Upgrade` lists the token `websocket` in any case, else 426 with
    ///    `Upgrade: websocket` (§4.2.1 item 3, RFC 9110 §15.5.22);
    /// 5. `Connection` lists the token `upgrade` in any case, else 400 (§4.2.1 item 4);
    /// 6. `Sec-WebSocket-Version` is exactly `13`, else 426 with
    ///    `Sec-WebSocket-Version: 13` and `Upgrade: websocket` (§4.2.1 item 6, §4.4);
    /// 7. exactly one `Sec-WebSocket-Key` that base64-decodes to 16 bytes, else 400
    ///    (§4.2.1 item 5, §11.3.1).
    public static func validate(_ request: HTTPRequest) throws(HandshakeError) -> UpgradeRequest {
        guard request.method == "GET" else {
            throw HandshakeError(status: .methodNotAllowed, message: "WebSocket upgrade requires GET",
                                 extraHeaders: [("Allow", "GET")])
        }
        guard request.version >= .http1_1 else {
            throw HandshakeError(status: .badRequest, message: "WebSocket upgrade requires HTTP/1.1")
        }
        let fields = UpgradeFields(request.headers)
        switch fields.hostLines {
        case 0: throw HandshakeError(status: .badRequest, message: "missing Host header")
        case 1: break
        default: throw HandshakeError(status: .badRequest, message: "more than one Host header")
        }
        guard fields.upgradesToWebSocket else {
            throw HandshakeError(status: .upgradeRequired, message: "Upgrade header must include websocket",
                                 extraHeaders: upgradeHeaders)
        }
        guard fields.connectionUpgrade else {
            throw HandshakeError(status: .badRequest, message: "Connection header must include Upgrade")
        }
        guard fields.versionLines == 1, fields.version == version else {
            throw HandshakeError(status: .upgradeRequired, message: "Sec-WebSocket-Version must be 13",
                                 extraHeaders: [("Sec-WebSocket-Version", version)] + upgradeHeaders)
        }
        guard fields.keyLines == 1, let key = fields.key, Base64.decodesTo16Bytes(key) else {
            throw HandshakeError(status: .badRequest,
                                 message: "Sec-WebSocket-Key must be one base64-encoded 16-byte value")
        }
        var offered: [String] = []
        for value in fields.protocols { HTTPSyntax.appendListElements(of: value, to: &offered) }
        return UpgradeRequest(key: key, offeredSubprotocols: offered, extensionHeaders: fields.extensions)
    }

    /// The fields `validate` reads, gathered in one pass over the head: a name is compared
    /// only with the field names of its length, instead of every lookup comparing every line
    /// (a dozen lookups over a browser's dozen lines was a tenth of a connection's set-up).
    private struct UpgradeFields {
        var hostLines = 0
        var upgradesToWebSocket = false
        var connectionUpgrade = false
        var versionLines = 0
        var version: String?
        var keyLines = 0
        var key: String?
        var protocols: [String] = []
        var extensions: [String] = []

        init(_ headers: HTTPHeaders) {
            for (name, value) in headers {
                switch name.utf8.count {
                case 4 where HTTPSyntax.equalsIgnoringCase(name, "Host"):
                    hostLines += 1
                case 7 where HTTPSyntax.equalsIgnoringCase(name, "Upgrade"):
                    upgradesToWebSocket = upgradesToWebSocket || HTTPSyntax.list(value, containsToken: "websocket")
                case 10 where HTTPSyntax.equalsIgnoringCase(name, "Connection"):
                    connectionUpgrade = connectionUpgrade || HTTPSyntax.list(value, containsToken: "upgrade")
                case 17 where HTTPSyntax.equalsIgnoringCase(name, "Sec-WebSocket-Key"):
                    keyLines += 1
                    if key == nil { key = value }
                case 21 where HTTPSyntax.equalsIgnoringCase(name, "Sec-WebSocket-Version"):
                    versionLines += 1
                    if version == nil { version = value }
                case 22 where HTTPSyntax.equalsIgnoringCase(name, "Sec-WebSocket-Protocol"):
                    protocols.append(value)
                case 24 where HTTPSyntax.equalsIgnoringCase(name, "Sec-WebSocket-Extensions"):
                    extensions.append(value)
                default:
                    break
                }
            }
        }
    }

    /// `base64(SHA-1(key + GUID))`, the `Sec-WebSocket-Accept` value (RFC 6455 §4.2.2 item 5.4).
    public static func acceptValue(forKey key: String) -> String {
        String(decoding: acceptBytes(forKey: key), as: UTF8.self)
    }

    /// The accept value as bytes; the key and GUID are joined in a stack buffer.
    static func acceptBytes(forKey key: String) -> [UInt8] {
        var key = key
        let digest = key.withUTF8 { keyBytes in
            withUnsafeTemporaryAllocation(of: UInt8.self, capacity: keyBytes.count + guidBytes.count) { joined in
                _ = joined.initialize(fromContentsOf: keyBytes)
                _ = joined[keyBytes.count...].initialize(fromContentsOf: guidBytes)
                return SHA1.hash(UnsafeRawBufferPointer(joined))
            }
        }
        return Base64.encodedBytes(digest)
    }

    private static let guidBytes = Array(magicGUID.utf8)

    /// Every 101 answer up to its accept value: what `HTTPResponseHead` would serialize for
    /// these fields (a test holds the two equal), written once instead of per handshake.
    private static let switchingHead = Array(
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ".utf8)
    private static let protocolField = Array("\r\nSec-WebSocket-Protocol: ".utf8)
    private static let extensionsField = Array("\r\nSec-WebSocket-Extensions: ".utf8)

    /// The 101 response bytes (RFC 6455 §4.2.2 item 5), with `Sec-WebSocket-Protocol` when
    /// `subprotocol` is given; it must be one the client offered (§4.2.2 item 5.4). With
    /// `Sec-WebSocket-Extensions` when `extensions` is given (§4.2.2 item 5.5, the answer of
    /// `PerMessageDeflate.negotiate`).
    public static func response(key: String, subprotocol: String?, extensions: String? = nil) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(switchingHead.count + 28 + protocolField.count + (subprotocol?.utf8.count ?? 0) + 4)
        out += switchingHead
        out += acceptBytes(forKey: key)
        if let subprotocol {
            out += protocolField
            HTTPResponseHead.appendSanitized(subprotocol, to: &out)
        }
        if let extensions {
            out += extensionsField
            HTTPResponseHead.appendSanitized(extensions, to: &out)
        }
        out += [HTTPSyntax.cr, HTTPSyntax.lf, HTTPSyntax.cr, HTTPSyntax.lf]
        return out
    }

    /// True when the request asks for a WebSocket upgrade at all: its `Upgrade` header lists
    /// `websocket` (any case). Routes a request to `validate(_:)` rather than to plain HTTP.
    public static func isUpgradeRequest(_ request: HTTPRequest) -> Bool {
        request.headers.containsToken("websocket", in: "Upgrade")
    }
}
