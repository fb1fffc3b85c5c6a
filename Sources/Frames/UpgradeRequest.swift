/// What a valid WebSocket opening handshake asked for (RFC 6455 §4.2.1), as returned by
/// `ServerHandshake.validate(_:)`.
public struct UpgradeRequest: Sendable, Equatable {
    /// The `Sec-WebSocket-Key` value as sent (base64 of 16 bytes), input to the accept value.
    public var key: String { keyText.string }
    /// The key's bytes, held inline: the 101 is written from them without making a `String`.
    let keyText: KeyText
    /// Subprotocols the client offered, in its order of preference, from every
    /// `Sec-WebSocket-Protocol` line, comma-split and trimmed, case preserved (RFC 6455
    /// §4.1 item 10, §11.3.4: subprotocol names are compared exactly).
    public let offeredSubprotocols: [String]
    /// Every `Sec-WebSocket-Extensions` line as sent, for `PerMessageDeflate.negotiate`.
    public let extensionHeaders: [String]

    /// A validated upgrade.
    public init(key: String, offeredSubprotocols: [String], extensionHeaders: [String] = []) {
        var key = key
        self.init(keyText: key.withUTF8 { KeyText(UnsafeRawBufferPointer($0)) }, offeredSubprotocols: offeredSubprotocols,
                  extensionHeaders: extensionHeaders)
    }

    init(keyText: KeyText, offeredSubprotocols: [String], extensionHeaders: [String]) {
        self.keyText = keyText
        self.offeredSubprotocols = offeredSubprotocols
        self.extensionHeaders = extensionHeaders
    }

    /// The first offered subprotocol that the server supports, or nil.
    ///
    /// RFC 6455 §4.2.2 item 5.4 lets the server pick any offered one; taking the client's
    /// first choice among ours is the usual rule (and what browsers expect).
    public func selectSubprotocol(from supported: [String]) -> String? {
        offeredSubprotocols.first { supported.contains($0) }
    }
}

/// A `Sec-WebSocket-Key` as sent: the 24 bytes of every key `ServerHandshake.validate`
/// accepts held in three words, any other length (a caller's own `UpgradeRequest`) as a
/// string. Making a heap `String` of each handshake's key, and destroying it, cost more than
/// its base64 check.
struct KeyText: Sendable, Equatable {
    private enum Storage: Sendable, Equatable {
        case inline(UInt64, UInt64, UInt64)
        case string(String)
    }

    private let storage: Storage

    init(_ bytes: UnsafeRawBufferPointer) {
        if bytes.count == 24 {
            storage = .inline(bytes.loadUnaligned(as: UInt64.self), bytes.loadUnaligned(fromByteOffset: 8, as: UInt64.self),
                              bytes.loadUnaligned(fromByteOffset: 16, as: UInt64.self))
        } else {
            storage = .string(String(decoding: bytes, as: UTF8.self))
        }
    }

    func withBytes<R>(_ body: (UnsafeRawBufferPointer) -> R) -> R {
        switch storage {
        case .inline(let a, let b, let c):
            var words = (a, b, c)
            return withUnsafeBytes(of: &words, body)
        case .string(var text):
            return text.withUTF8 { body(UnsafeRawBufferPointer($0)) }
        }
    }

    var string: String { withBytes { String(decoding: $0, as: UTF8.self) } }
}
