/// The text envelopes the server sends, byte for byte as Protocol.md shows them: no spaces,
/// keys in the documented order, optional keys left out rather than `null`.
///
/// Fixed key order lets clients and tests compare bytes, and lets a message envelope be
/// built as prefix + the publisher's raw `data` + `}`, once per publish, shared by every
/// subscriber.
public enum ServerEnvelope {
    /// `{"type":"message","topic":…,"epoch":…,"seq":N,"data":` — the message envelope up to
    /// its data. The publisher's raw data follows, then `messageSuffix`. With `binary` the last
    /// key is `"binary":` instead, for a binary payload as a base64 string where only JSON
    /// travels (Server-Sent Events, like GET /history).
    public static func messagePrefix(topic: String, epoch: String, seq: UInt64, binary: Bool = false) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(60 + topic.utf8.count + epoch.utf8.count)
        bytes.appendLiteral(#"{"type":"message","topic":"#)
        bytes.appendQuoted(topic)
        bytes.appendLiteral(#","epoch":"#)
        bytes.appendQuoted(epoch)
        bytes.appendLiteral(#","seq":"#)
        bytes.appendDecimal(seq)
        if binary { bytes.appendLiteral(#","binary":"#) } else { bytes.appendLiteral(#","data":"#) }
        return bytes
    }

    /// The byte that closes a message envelope after its data: `}`.
    public static let messageSuffix: UInt8 = 0x7D

    /// `{"type":"ack","id":…,"op":…,"topic":…,"epoch":…,"seq":N,"subscribers":N}`. `id` is
    /// the request's raw JSON token, copied verbatim; nil fields are omitted.
    /// A resuming subscribe's ack adds `"recovered":bool` and, when history holds anything,
    /// `"earliest":{"epoch":…,"seq":N}` (Protocol.md "History and resume").
    public static func ack(id: [UInt8]?, op: String, topic: String, epoch: String? = nil,
                           seq: UInt64? = nil, subscribers: Int? = nil,
                           recovered: Bool? = nil, earliest: (epoch: String, seq: UInt64)? = nil) -> [UInt8] {
        let ack = AckEnvelope(id: id, op: op, topic: topic, epoch: epoch, seq: seq, subscribers: subscribers,
                              recovered: recovered, earliest: earliest)
        return [UInt8](unsafeUninitializedCapacity: ack.count) { buffer, initialized in
            if ack.count > 0 { ack.write(to: UnsafeMutableRawPointer(buffer.baseAddress!)) }
            initialized = ack.count
        }
    }

    /// A pattern subscription's ack when it carries a cursor (Protocol.md "Resuming a
    /// pattern"): `{"type":"ack","id":…,"op":"subscribe","topic":…,"cursor":…}`, and for a
    /// resume `"recovered":bool` and `"lost":[{"topic":…,"earliest":{"epoch":…,"seq":N}}]`
    /// (the topics whose history no longer held every message asked for; `earliest` absent
    /// when it holds nothing).
    public static func cursorAck(id: [UInt8]?, topic: String, cursor: String, recovered: Bool?,
                                 lost: [(topic: String, earliest: (epoch: String, seq: UInt64)?)] = []) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(96 + topic.utf8.count + cursor.utf8.count + (id?.count ?? 0) + lost.count * 64)
        bytes.appendLiteral(#"{"type":"ack""#)
        if let id {
            bytes.appendLiteral(#","id":"#)
            bytes.append(contentsOf: id)
        }
        bytes.appendLiteral(#","op":"subscribe","topic":"#)
        bytes.appendQuoted(topic)
        bytes.appendLiteral(#","cursor":"#)
        bytes.appendQuoted(cursor)
        if let recovered {
            bytes.appendLiteral(recovered ? #","recovered":true"# : #","recovered":false"#)
            if !lost.isEmpty {
                bytes.appendLiteral(#","lost":["#)
                for (index, entry) in lost.enumerated() {
                    if index > 0 { bytes.append(0x2C) }
                    bytes.appendLiteral(#"{"topic":"#)
                    bytes.appendQuoted(entry.topic)
                    if let earliest = entry.earliest {
                        bytes.appendLiteral(#","earliest":{"epoch":"#)
                        bytes.appendQuoted(earliest.epoch)
                        bytes.appendLiteral(#","seq":"#)
                        bytes.appendDecimal(earliest.seq)
                        bytes.append(0x7D)
                    }
                    bytes.append(0x7D)
                }
                bytes.append(0x5D)
            }
        }
        bytes.append(0x7D)
        return bytes
    }

    /// `{"type":"checkpoint","topic":…,"cursor":…}`: every message of the pattern
    /// subscription `topic` up to `cursor` came before this envelope.
    public static func checkpoint(topic: String, cursor: String) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(48 + topic.utf8.count + cursor.utf8.count)
        bytes.appendLiteral(#"{"type":"checkpoint","topic":"#)
        bytes.appendQuoted(topic)
        bytes.appendLiteral(#","cursor":"#)
        bytes.appendQuoted(cursor)
        bytes.append(0x7D)
        return bytes
    }

    /// `{"type":"error","id":…,"code":…,"message":…,"topic":…}`. `id` is the request's raw
    /// JSON token; nil fields are omitted.
    public static func error(_ code: ErrorCode, message: String, id: [UInt8]? = nil, topic: String? = nil) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(64 + message.utf8.count + (topic?.utf8.count ?? 0) + (id?.count ?? 0))
        bytes.appendLiteral(#"{"type":"error""#)
        if let id {
            bytes.appendLiteral(#","id":"#)
            bytes.append(contentsOf: id)
        }
        bytes.appendLiteral(#","code":"#)
        bytes.appendQuoted(code.rawValue)
        bytes.appendLiteral(#","message":"#)
        bytes.appendQuoted(message)
        if let topic {
            bytes.appendLiteral(#","topic":"#)
            bytes.appendQuoted(topic)
        }
        bytes.append(0x7D)
        return bytes
    }

    /// The error sent just before close 4008 (Protocol.md "Slow consumers"): per topic the
    /// subscriber was missing messages of, the last position it was sent, so it can resume.
    public static func slowConsumer(message: String, positions: [(topic: String, epoch: String, seq: UInt64)]) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.appendLiteral(#"{"type":"error","code":"slow_consumer","message":"#)
        bytes.appendQuoted(message)
        bytes.appendLiteral(#","positions":["#)
        for (index, position) in positions.enumerated() {
            if index > 0 { bytes.append(0x2C) }
            bytes.appendPosition(topic: position.topic, epoch: position.epoch, seq: position.seq)
        }
        bytes.appendLiteral("]}")
        return bytes
    }

    /// The first message on every connection: the protocol name and the limits in force
    /// (Protocol.md "Connecting"), so clients never hard-code the defaults.
    public static func welcome(maxMessageSize: Int, maxPayload: Int, maxSubscriptions: Int,
                               maxTopicLength: Int, maxTopicDepth: Int, sendQueueMessages: Int,
                               sendQueueBytes: Int, pingInterval: Int, idleTimeout: Int) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(320)
        bytes.appendLiteral(#"{"type":"welcome","protocol":"bus.v1","max_message_size":"#)
        bytes.appendDecimal(maxMessageSize)
        bytes.appendLiteral(#","max_payload":"#)
        bytes.appendDecimal(maxPayload)
        bytes.appendLiteral(#","max_subscriptions":"#)
        bytes.appendDecimal(maxSubscriptions)
        bytes.appendLiteral(#","max_topic_length":"#)
        bytes.appendDecimal(maxTopicLength)
        bytes.appendLiteral(#","max_topic_depth":"#)
        bytes.appendDecimal(maxTopicDepth)
        bytes.appendLiteral(#","send_queue_messages":"#)
        bytes.appendDecimal(sendQueueMessages)
        bytes.appendLiteral(#","send_queue_bytes":"#)
        bytes.appendDecimal(sendQueueBytes)
        bytes.appendLiteral(#","ping_interval":"#)
        bytes.appendDecimal(pingInterval)
        bytes.appendLiteral(#","idle_timeout":"#)
        bytes.appendDecimal(idleTimeout)
        bytes.append(0x7D)
        return bytes
    }
}
