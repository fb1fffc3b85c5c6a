import BusProtocol

/// Bytes of the operations a client sends. Each returns one complete operation, so the caller
/// can queue it as one buffer.
public enum NATSEncoder {
    static let crlf: [UInt8] = [13, 10]

    /// `CONNECT` as bus uses it: no `+OK` per operation (`verbose:false`), no strict subject
    /// checks (`pedantic:false`), and no echo so our own publishes never come back to us — a
    /// node delivers its publishes locally and must not deliver them twice. (Client libraries
    /// call it `no_echo`; on the wire it is `"echo":false` — nats-server ignores a `no_echo` key.)
    public static func connect(name: String, headers: Bool = true) -> [UInt8] {
        let json = "{\"verbose\":false,\"pedantic\":false,\"echo\":false,\"headers\":\(headers),"
            + "\"name\":\(quoted(name)),\"lang\":\"swift\",\"version\":\"1.0\",\"protocol\":1}"
        return Array("CONNECT \(json)\r\n".utf8)
    }

    public static func publish(subject: String, payload: some Collection<UInt8>) -> [UInt8] {
        var out = Array("PUB \(subject) \(payload.count)\r\n".utf8)
        out.reserveCapacity(out.count + payload.count + 2)
        out.append(contentsOf: payload)
        out.append(contentsOf: crlf)
        return out
    }

    /// `HPUB` with a header block built from `headers` (`NATS/1.0` status line first).
    public static func publish(subject: String, headers: [(String, String)], payload: some Collection<UInt8>) -> [UInt8] {
        let block = headerBlock(headers)
        var out = Array("HPUB \(subject) \(block.count) \(block.count + payload.count)\r\n".utf8)
        out.reserveCapacity(out.count + block.count + payload.count + 2)
        out.append(contentsOf: block)
        out.append(contentsOf: payload)
        out.append(contentsOf: crlf)
        return out
    }

    public static func headerBlock(_ headers: [(String, String)]) -> [UInt8] {
        var text = "NATS/1.0\r\n"
        for (name, value) in headers { text += "\(name): \(value)\r\n" }
        text += "\r\n"
        return Array(text.utf8)
    }

    public static func subscribe(subject: String, sid: UInt64) -> [UInt8] { Array("SUB \(subject) \(sid)\r\n".utf8) }
    public static func unsubscribe(sid: UInt64) -> [UInt8] { Array("UNSUB \(sid)\r\n".utf8) }
    public static let ping: [UInt8] = Array("PING\r\n".utf8)
    public static let pong: [UInt8] = Array("PONG\r\n".utf8)

    /// A JSON string literal (the node name is the only free text we send).
    static func quoted(_ text: String) -> String { JSONText.quoted(text) }
}
