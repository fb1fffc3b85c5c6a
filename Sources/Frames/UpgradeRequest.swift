/// What a valid WebSocket opening handshake asked for (RFC 6455 §4.2.1), as returned by
/// `ServerHandshake.validate(_:)`.
public struct UpgradeRequest: Sendable, Equatable {
    /// The `Sec-WebSocket-Key` value as sent (base64 of 16 bytes), input to the accept value.
    public let key: String
    /// Subprotocols the client offered, in its order of preference, from every
    /// `Sec-WebSocket-Protocol` line, comma-split and trimmed, case preserved (RFC 6455
    /// §4.1 item 10, §11.3.4: subprotocol names are compared exactly).
    public let offeredSubprotocols: [String]
    /// Every `Sec-WebSocket-Extensions` line as sent, for `PerMessageDeflate.negotiate`.
    public let extensionHeaders: [String]

    /// A validated upgrade.
    public init(key: String, offeredSubprotocols: [String], extensionHeaders: [String] = []) {
        self.key = key
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
