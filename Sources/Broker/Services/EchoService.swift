import Frames

/// `/echo`: every message goes back to its sender with the same opcode and bytes — the seed's
/// echo service, and what the Autobahn suite drives. Stateless: one serves every connection.
/// A reply goes out through the same shared-encoding path as a bus delivery, compressed
/// when the connection negotiated permessage-deflate.
final class EchoService: WebSocketEndpoint, WebSocketService {
    func negotiate(_ offered: [String]) throws(HandshakeError) -> String? { nil }
    func open(_ connection: Connection) -> WebSocketService { self }
    func closed(_ connection: Connection) {}

    func received(_ opcode: Opcode, _ payload: UnsafeRawBufferPointer, on connection: Connection) {
        connection.enqueue(connection.wireEncoding(of: WireFrame.make(opcode: opcode, payload: payload)))
    }
}
