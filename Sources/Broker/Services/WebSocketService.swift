import Frames

/// A WebSocket path (`/echo`, `/bus`): agrees on a subprotocol and gives each connection
/// that upgrades to it the service its messages go to. One instance per loop.
protocol WebSocketEndpoint: AnyObject {
    /// Picks the subprotocol from the client's offer (in order), or refuses the handshake.
    func negotiate(_ offered: [String]) throws(HandshakeError) -> String?
    /// The connection is open: the service that takes its messages from now on.
    func open(_ connection: Connection) -> WebSocketService
}

/// What one open WebSocket's messages go to, called on its loop only. Connection knows
/// nothing of the protocol spoken over it: everything it asks of the service is here.
protocol WebSocketService: AnyObject {
    /// A complete text or binary message; `payload` is valid only during the call.
    func received(_ opcode: Opcode, _ payload: UnsafeRawBufferPointer, on connection: Connection)
    /// The connection left the open state (closing or gone); forget it.
    func closed(_ connection: Connection)
    /// The connection's queue was written out, as asked with `notifyWhenDrained`.
    func drained(_ connection: Connection)
    /// What the client is told before close 4008 when it is dropped as a slow consumer, read
    /// from the frames it will not get (`connection.forEachUnstartedFrame`, and
    /// `overflowing`, the one that did not fit); nil for nothing.
    func slowConsumerNotice(on connection: Connection, cause: String, overflowing: OutboundBytes?) -> OutboundBytes?
}

extension WebSocketService {
    func drained(_ connection: Connection) {}
    func slowConsumerNotice(on connection: Connection, cause: String, overflowing: OutboundBytes?) -> OutboundBytes? { nil }
}
