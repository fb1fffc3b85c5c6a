import Frames

/// What a WebSocket endpoint (`/echo`, `/bus`) does with its connections. One instance per
/// loop, called on that loop only.
protocol WebSocketService: AnyObject {
    /// Picks the subprotocol from the client's offer (in order), or refuses the handshake.
    func negotiate(_ offered: [String]) throws(HandshakeError) -> String?
    func opened(_ connection: Connection)
    /// A complete text or binary message; `payload` is valid only during the call.
    func received(_ opcode: Opcode, _ payload: UnsafeRawBufferPointer, on connection: Connection)
    /// The connection left the open state (closing or gone); forget it.
    func closed(_ connection: Connection)
}
