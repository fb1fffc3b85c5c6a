import BusProtocol
import Frames
@testable import Broker

/// A test client for /bus: a WebSocketClient plus envelope helpers. Messages that arrive while
/// it waits for something else are kept, in order, for `next`.
final class BusClient {
    let socket: WebSocketClient
    private(set) var welcome: ServerMessage?
    private var backlog: [ServerMessage] = []
    /// The raw text of the last text envelope received (for fields ServerMessage leaves out).
    private(set) var lastText = ""
    private var nextID = 0

    /// `path` may carry a query (`/bus?token=…`); `headers` go with the upgrade request.
    /// `compression` offers permessage-deflate (the server answers it unless turned off).
    init(port: UInt16, subprotocols: [String] = ["bus.v1"], path: String = "/bus", headers: [(String, String)] = [],
         compression: Bool = false) throws {
        socket = try WebSocketClient(url: try WebSocketURL("ws://127.0.0.1:\(port)\(path)"), subprotocols: subprotocols,
                                     headers: headers, compression: compression)
        welcome = try receiveOne(timeout: 5)
    }

    /// The next server message (text envelopes parsed; binary messages decoded).
    func next(timeout: Double = 5) throws -> ServerMessage {
        if !backlog.isEmpty { return backlog.removeFirst() }
        return try receiveOne(timeout: timeout)
    }

    private func receiveOne(timeout: Double) throws -> ServerMessage {
        while true {
            switch try socket.receive(timeout: timeout) {
            case .text(let text):
                lastText = text
                let bytes = Array(text.utf8)
                guard let message = bytes.withUnsafeBytes({ ServerMessage.parse($0) }) else {
                    throw WebSocketClient.ClientError.protocolViolation("unparseable envelope: \(text)")
                }
                return message
            case .binary(let bytes):
                guard let decoded = bytes.withUnsafeBytes({ BinaryLayout.parseMessage($0) }) else {
                    throw WebSocketClient.ClientError.protocolViolation("bad binary message")
                }
                return .message(topic: decoded.topic, epoch: decoded.epoch, seq: decoded.seq,
                                data: Array(bytes[decoded.payload]))
            case .close(let code, let reason):
                throw ClosedByServer(code: code, reason: reason)
            case .pong:
                continue
            }
        }
    }

    /// Waits for the reply whose id is `id`, keeping anything else for later.
    func reply(to id: String, timeout: Double = 5) throws -> ServerMessage {
        var skipped: [ServerMessage] = []
        defer { backlog = skipped + backlog }
        while true {
            let message = try receiveOne(timeout: timeout)
            switch message {
            case .ack(let ackID, _, _, _, _, _) where ackID == id: return message
            case .error(_, _, let errorID, _, _) where errorID == id: return message
            default: skipped.append(message)
            }
        }
    }

    func newID() -> String {
        nextID += 1
        return "\"r\(nextID)\""
    }

    @discardableResult
    func subscribe(_ pattern: String) throws -> ServerMessage {
        let id = newID()
        try socket.send(text: "{\"type\":\"subscribe\",\"id\":\(id),\"topic\":\(JSONText.quoted(pattern))}")
        return try reply(to: id)
    }

    /// Subscribes with `"since"` or `"last"` (raw JSON member text, e.g. `"last":5`); returns
    /// the ack's raw text.
    func resume(_ topic: String, _ member: String) throws -> String {
        let id = newID()
        try socket.send(text: "{\"type\":\"subscribe\",\"id\":\(id),\"topic\":\(JSONText.quoted(topic)),\(member)}")
        _ = try reply(to: id)
        return lastText
    }

    @discardableResult
    func unsubscribe(_ pattern: String) throws -> ServerMessage {
        let id = newID()
        try socket.send(text: "{\"type\":\"unsubscribe\",\"id\":\(id),\"topic\":\(JSONText.quoted(pattern))}")
        return try reply(to: id)
    }

    /// Publishes raw JSON `data`; with `ack`, waits for and returns the ack.
    @discardableResult
    func publish(_ topic: String, json data: String, ack: Bool = true) throws -> ServerMessage? {
        guard ack else {
            try socket.send(text: "{\"type\":\"publish\",\"topic\":\(JSONText.quoted(topic)),\"data\":\(data)}")
            return nil
        }
        let id = newID()
        try socket.send(text: "{\"type\":\"publish\",\"id\":\(id),\"topic\":\(JSONText.quoted(topic)),\"data\":\(data)}")
        return try reply(to: id)
    }

    @discardableResult
    func publish(_ topic: String, binary payload: [UInt8], ack: Bool = true) throws -> ServerMessage? {
        let id = ack ? "b\(nextID + 1)" : nil
        nextID += 1
        try socket.send(binary: BinaryLayout.encodePublish(topic: topic, id: id, payload: payload))
        return try id.map { try reply(to: "\"\($0)\"") }
    }

    func close() { try? socket.close() }
}

struct ClosedByServer: Error, Equatable {
    let code: UInt16?
    let reason: String
}
