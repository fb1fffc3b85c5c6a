/// Requests as a client writes them (bus-cli, tests): compact, keys in the order Protocol.md
/// shows (`type`, `id`, `topic`, `data`), the id as a JSON string.
public enum ClientEnvelope {
    /// `{"type":"subscribe","id":"…","topic":"…"}`.
    public static func subscribe(topic: String, id: String?) -> [UInt8] {
        request("subscribe", topic: topic, id: id)
    }

    /// A resuming subscribe: `…,"since":{"epoch":"…","seq":N}}` or `…,"last":N}`
    /// (Protocol.md "History and resume").
    public static func subscribe(topic: String, id: String?, resume: ClientRequest.Resume) -> [UInt8] {
        var bytes = request("subscribe", topic: topic, id: id)
        bytes.removeLast()
        switch resume {
        case .since(let epoch, let seq):
            bytes.appendLiteral(#","since":{"epoch":"#)
            bytes.appendQuoted(epoch)
            bytes.appendLiteral(#","seq":"#)
            bytes.appendDecimal(seq)
            bytes.append(0x7D)
        case .last(let count):
            bytes.appendLiteral(#","last":"#)
            bytes.appendDecimal(count)
        case .cursor(let cursor, let positions):
            bytes.appendLiteral(#","since":{"cursor":"#)
            bytes.appendQuoted(cursor.text)
            if !positions.isEmpty {
                bytes.appendLiteral(#","positions":["#)
                for (index, position) in positions.enumerated() {
                    if index > 0 { bytes.append(0x2C) }
                    bytes.appendPosition(topic: position.topic, epoch: position.epoch, seq: position.seq)
                }
                bytes.append(0x5D)
            }
            bytes.append(0x7D)
        }
        bytes.append(0x7D)
        return bytes
    }

    /// `{"type":"subscribe","id":"…","topic":"…","checkpoints":true}`: a pattern subscription
    /// whose ack and `checkpoint` envelopes carry its cursor.
    public static func subscribe(topic: String, id: String?, checkpoints: Bool) -> [UInt8] {
        var bytes = request("subscribe", topic: topic, id: id)
        guard checkpoints else { return bytes }
        bytes.removeLast()
        bytes.appendLiteral(#","checkpoints":true}"#)
        return bytes
    }

    /// `{"type":"unsubscribe","id":"…","topic":"…"}`.
    public static func unsubscribe(topic: String, id: String?) -> [UInt8] {
        request("unsubscribe", topic: topic, id: id)
    }

    /// `{"type":"publish","id":"…","topic":"…","data":…}`. `dataJSON` is inserted verbatim:
    /// the caller guarantees it is one JSON value (`JSON.validateValue`), as the server
    /// refuses anything else with `bad_json`.
    public static func publish(topic: String, dataJSON: [UInt8], id: String?) -> [UInt8] {
        request("publish", topic: topic, id: id, data: dataJSON)
    }

    static func request(_ type: StaticString, topic: String, id: String?, data: [UInt8]? = nil) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(48 + topic.utf8.count + (id?.utf8.count ?? 0) + (data?.count ?? 0))
        bytes.appendLiteral(#"{"type":""#)
        bytes.appendLiteral(type)
        bytes.append(0x22)
        if let id {
            bytes.appendLiteral(#","id":"#)
            bytes.appendQuoted(id)
        }
        bytes.appendLiteral(#","topic":"#)
        bytes.appendQuoted(topic)
        if let data {
            bytes.appendLiteral(#","data":"#)
            bytes.append(contentsOf: data)
        }
        bytes.append(0x7D)
        return bytes
    }
}
