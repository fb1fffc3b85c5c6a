/// The server side of the WebSocket opening handshake (RFC 6455 §4.2): checks the upgrade
/// request and builds the 101 answer. Pure functions; the connection calls them once its
/// `HTTPRequestParser` has a complete head.
public enum ServerHandshake {
    /// The GUID appended to the key before hashing (RFC 6455 §1.3, §4.2.2 item 5.4).
    public static let magicGUID = guid.description

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
        var fields = UpgradeFields.read(request.headers)
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
        guard fields.versionLines == 1, fields.versionIs13 else {
            throw HandshakeError(status: .upgradeRequired, message: "Sec-WebSocket-Version must be 13",
                                 extraHeaders: [("Sec-WebSocket-Version", version)] + upgradeHeaders)
        }
        guard fields.keyLines == 1, let key = fields.key.take() else {
            throw HandshakeError(status: .badRequest,
                                 message: "Sec-WebSocket-Key must be one base64-encoded 16-byte value")
        }
        return UpgradeRequest(keyText: key, offeredSubprotocols: fields.protocols, extensionHeaders: fields.extensions)
    }

    /// The fields `validate` reads, gathered in one pass over the head's bytes: a name is
    /// compared only with the field names of its length, and a `String` is made only of what
    /// the upgrade keeps (the key, the offered subprotocols, the extension offers).
    private struct UpgradeFields {
        var hostLines = 0
        var upgradesToWebSocket = false
        var connectionUpgrade = false
        var versionLines = 0
        /// The first `Sec-WebSocket-Version` line is exactly `13`.
        var versionIs13 = false
        var keyLines = 0
        /// The first `Sec-WebSocket-Key`, when it is base64 of 16 bytes.
        var key: KeyText?
        /// Every `Sec-WebSocket-Protocol` line's elements, in order.
        var protocols: [String] = []
        var extensions: [String] = []

        /// Gathered into a local and returned: an initialiser's closure over `self` made the
        /// compiler copy the whole struct (its arrays retained) once per handshake.
        static func read(_ headers: HTTPHeaders) -> UpgradeFields {
            var fields = UpgradeFields()
            headers.forEachLine { name, value in
                fields.take(name, value)
            }
            return fields
        }

        private mutating func take(_ name: UnsafeRawBufferPointer, _ value: UnsafeRawBufferPointer) {
            switch name.count {
            case 4 where HTTPSyntax.equalsIgnoringCase(name, HTTPSyntax.bytes("Host")):
                hostLines += 1
            case 7 where HTTPSyntax.equalsIgnoringCase(name, HTTPSyntax.bytes("Upgrade")):
                upgradesToWebSocket = upgradesToWebSocket
                    || HTTPSyntax.list(value, containsToken: HTTPSyntax.bytes("websocket"))
            case 10 where HTTPSyntax.equalsIgnoringCase(name, HTTPSyntax.bytes("Connection")):
                connectionUpgrade = connectionUpgrade || HTTPSyntax.list(value, containsToken: HTTPSyntax.bytes("upgrade"))
            case 17 where HTTPSyntax.equalsIgnoringCase(name, HTTPSyntax.bytes("Sec-WebSocket-Key")):
                keyLines += 1
                if keyLines == 1 && Base64.decodesTo16Bytes(value) { key = KeyText(value) }
            case 21 where HTTPSyntax.equalsIgnoringCase(name, HTTPSyntax.bytes("Sec-WebSocket-Version")):
                versionLines += 1
                if versionLines == 1 { versionIs13 = HTTPSyntax.equals(value, "13") }
            case 22 where HTTPSyntax.equalsIgnoringCase(name, HTTPSyntax.bytes("Sec-WebSocket-Protocol")):
                HTTPSyntax.appendListElements(of: value, to: &protocols)
            case 24 where HTTPSyntax.equalsIgnoringCase(name, HTTPSyntax.bytes("Sec-WebSocket-Extensions")):
                extensions.append(String(decoding: value, as: UTF8.self))
            default:
                break
            }
        }
    }

    /// `base64(SHA-1(key + GUID))`, the `Sec-WebSocket-Accept` value (RFC 6455 §4.2.2 item 5.4).
    public static func acceptValue(forKey key: String) -> String {
        var key = key
        return key.withUTF8 { keyBytes in
            String(unsafeUninitializedCapacity: acceptLength) {
                writeAccept(forKey: UnsafeRawBufferPointer(keyBytes), into: UnsafeMutableRawBufferPointer($0))
            }
        }
    }

    /// Length of the accept value: base64 of a 20-byte digest.
    static let acceptLength = 28

    /// Writes the accept value of `key` (its bytes) to the start of `out` (room for
    /// `acceptLength` bytes) and returns its length; the key and GUID are joined, and the
    /// digest kept, on the stack.
    static func writeAccept(forKey key: UnsafeRawBufferPointer, into out: UnsafeMutableRawBufferPointer) -> Int {
        withUnsafeTemporaryAllocation(byteCount: key.count + guid.utf8CodeUnitCount + SHA1.digestLength, alignment: 8) { scratch in
            let joined = UnsafeMutableRawBufferPointer(rebasing: scratch[..<(key.count + guid.utf8CodeUnitCount)])
            let digest = UnsafeMutableRawBufferPointer(rebasing: scratch[joined.count...])
            joined.copyMemory(from: key)
            UnsafeMutableRawBufferPointer(rebasing: joined[key.count...]).copyMemory(from: HTTPSyntax.bytes(guid))
            SHA1.hash(UnsafeRawBufferPointer(joined), into: digest)
            return Base64.encode(UnsafeRawBufferPointer(digest), into: out)
        }
    }

    private static let guid: StaticString = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

    /// Every 101 answer up to its accept value: what `HTTPResponseHead` would serialize for
    /// these fields (a test holds the two equal), written once instead of per handshake.
    private static let switchingHead: StaticString =
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: "
    private static let protocolField: StaticString = "\r\nSec-WebSocket-Protocol: "
    private static let extensionsField: StaticString = "\r\nSec-WebSocket-Extensions: "
    private static let headEnd: StaticString = "\r\n\r\n"

    /// The 101 response bytes (RFC 6455 §4.2.2 item 5), with `Sec-WebSocket-Protocol` when
    /// `subprotocol` is given; it must be one the client offered (§4.2.2 item 5.4). With
    /// `Sec-WebSocket-Extensions` when `extensions` is given (§4.2.2 item 5.5, the answer of
    /// `PerMessageDeflate.negotiate`).
    public static func response(key: String, subprotocol: String?, extensions: String? = nil) -> [UInt8] {
        var key = key
        return key.withUTF8 { keyBytes in
            [UInt8](unsafeUninitializedCapacity: responseCount(subprotocol: subprotocol, extensions: extensions)) { out, count in
                writeResponse(key: UnsafeRawBufferPointer(keyBytes), subprotocol: subprotocol, extensions: extensions,
                              into: UnsafeMutableRawBufferPointer(out))
                count = out.count
            }
        }
    }

    /// Length of `response(key:subprotocol:extensions:)` for any key `validate` accepted.
    public static func responseCount(subprotocol: String?, extensions: String? = nil) -> Int {
        switchingHead.utf8CodeUnitCount + acceptLength + headEnd.utf8CodeUnitCount
            + (subprotocol.map { protocolField.utf8CodeUnitCount + $0.utf8.count } ?? 0)
            + (extensions.map { extensionsField.utf8CodeUnitCount + $0.utf8.count } ?? 0)
    }

    /// Writes `response(key: upgrade.key, subprotocol:extensions:)` into `out`, exactly
    /// `responseCount(subprotocol:extensions:)` bytes: the connection's send buffer is the
    /// only copy made, and the key is read where `upgrade` holds it.
    public static func writeResponse(to upgrade: UpgradeRequest, subprotocol: String?, extensions: String? = nil,
                                     into out: UnsafeMutableRawBufferPointer) {
        upgrade.keyText.withBytes { writeResponse(key: $0, subprotocol: subprotocol, extensions: extensions, into: out) }
    }

    private static func writeResponse(key: UnsafeRawBufferPointer, subprotocol: String?, extensions: String?,
                                      into out: UnsafeMutableRawBufferPointer) {
        precondition(out.count == responseCount(subprotocol: subprotocol, extensions: extensions))
        var at = 0
        func write(_ literal: StaticString) {
            UnsafeMutableRawBufferPointer(rebasing: out[at...]).copyMemory(from: HTTPSyntax.bytes(literal))
            at += literal.utf8CodeUnitCount
        }
        func write(sanitized text: String) {
            var text = text
            text.withUTF8 { bytes in
                for byte in bytes { out[at] = HTTPResponseHead.sanitized(byte); at += 1 }
            }
        }
        write(switchingHead)
        guard writeAccept(forKey: key, into: UnsafeMutableRawBufferPointer(rebasing: out[at...])) == acceptLength else {
            preconditionFailure("the accept value is 28 bytes")
        }
        at += acceptLength
        if let subprotocol {
            write(protocolField)
            write(sanitized: subprotocol)
        }
        if let extensions {
            write(extensionsField)
            write(sanitized: extensions)
        }
        write(headEnd)
    }

    /// True when the request asks for a WebSocket upgrade at all: its `Upgrade` header lists
    /// `websocket` (any case). Routes a request to `validate(_:)` rather than to plain HTTP.
    public static func isUpgradeRequest(_ request: HTTPRequest) -> Bool {
        request.headers.containsToken("websocket", in: "Upgrade")
    }
}
