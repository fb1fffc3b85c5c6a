/// A text envelope from the server, as a client reads it (bus-cli, tests).
///
/// Client side, so it favours convenience over zero-copy: values are decoded into Swift
/// types, except where Protocol.md says bytes are opaque (`data`, `id`), which stay raw JSON
/// text. Parsing is strict: anything the server would never send (invalid JSON, a
/// duplicate key, a missing or mistyped field, an unknown type) yields nil.
public enum ServerMessage: Equatable, Sendable {
    /// Every member except `type`, key → raw JSON text (`"\"bus.v1\""`, `"1048576"`).
    case welcome(fields: [String: String])
    /// A delivered message; `data` is the raw JSON exactly as published.
    case message(topic: String, epoch: String, seq: UInt64, data: [UInt8])
    /// `id` is the raw JSON token the request carried (`"1"`, `"\"a\""`).
    case ack(id: String?, op: String, topic: String, epoch: String?, seq: UInt64?, subscribers: Int?)
    /// `raw` is the whole envelope, for fields only some codes carry (`positions` of
    /// `slow_consumer`).
    case error(code: String, message: String, id: String?, topic: String?, raw: [UInt8])
    /// Every message of the cursor subscription `topic` up to `cursor` came before this.
    case checkpoint(topic: String, cursor: String)

    /// Reads one text frame; nil if it is not a well-formed server envelope.
    public static func parse(_ bytes: UnsafeRawBufferPointer) -> ServerMessage? {
        var members: [String: Range<Int>] = [:]
        var duplicate = false
        do throws(JSONError) {
            try JSON.scanObject(bytes) { key, value in
                var name: [UInt8] = []
                _ = JSON.unescape(key, into: &name)
                if members.updateValue(value, forKey: String(decoding: name, as: UTF8.self)) != nil {
                    duplicate = true
                }
            }
        } catch {
            return nil
        }
        guard !duplicate else { return nil }
        let fields = Fields(bytes: bytes, members: members)
        guard let type = fields.string("type") else { return nil }
        switch type {
        case "welcome":
            var raw: [String: String] = [:]
            for (key, range) in members where key != "type" {
                raw[key] = String(decoding: UnsafeRawBufferPointer(rebasing: bytes[range]), as: UTF8.self)
            }
            return .welcome(fields: raw)
        case "message":
            guard let topic = fields.string("topic"), let epoch = fields.string("epoch"),
                  let seq = fields.unsigned("seq"), let data = fields.raw("data") else { return nil }
            return .message(topic: topic, epoch: epoch, seq: seq, data: Array(data.utf8))
        case "ack":
            guard let op = fields.string("op"), let topic = fields.string("topic"),
                  let epoch = fields.optional("epoch", fields.string),
                  let seq = fields.optional("seq", fields.unsigned),
                  let subscribers = fields.optional("subscribers", fields.integer) else { return nil }
            return .ack(id: fields.raw("id"), op: op, topic: topic, epoch: epoch, seq: seq, subscribers: subscribers)
        case "error":
            guard let code = fields.string("code"), let message = fields.string("message"),
                  let topic = fields.optional("topic", fields.string) else { return nil }
            return .error(code: code, message: message, id: fields.raw("id"), topic: topic, raw: Array(bytes))
        case "checkpoint":
            guard let topic = fields.string("topic"), let cursor = fields.string("cursor") else { return nil }
            return .checkpoint(topic: topic, cursor: cursor)
        default:
            return nil
        }
    }

    /// A string member of one envelope's raw text (an ack's `cursor`), nil when absent.
    public static func stringField(_ name: String, in text: String) -> String? {
        var members: [String: Range<Int>] = [:]
        let bytes = Array(text.utf8)
        return bytes.withUnsafeBytes { raw -> String? in
            do throws(JSONError) {
                try JSON.scanObject(raw) { key, value in
                    var unescaped: [UInt8] = []
                    _ = JSON.unescape(key, into: &unescaped)
                    members[String(decoding: unescaped, as: UTF8.self)] = value
                }
            } catch {
                return nil
            }
            return Fields(bytes: raw, members: members).string(name)
        }
    }

    /// Typed access to the members of one envelope.
    struct Fields {
        var bytes: UnsafeRawBufferPointer
        var members: [String: Range<Int>]

        func slice(_ key: String) -> UnsafeRawBufferPointer? {
            members[key].map { UnsafeRawBufferPointer(rebasing: bytes[$0]) }
        }

        func raw(_ key: String) -> String? {
            slice(key).map { String(decoding: $0, as: UTF8.self) }
        }

        func string(_ key: String) -> String? {
            slice(key).flatMap(JSON.decodeString)
        }

        func unsigned(_ key: String) -> UInt64? {
            slice(key).flatMap(JSON.decodeUnsignedInteger)
        }

        func integer(_ key: String) -> Int? {
            slice(key).flatMap(JSON.decodeInteger).flatMap { Int(exactly: $0) }
        }

        /// For an optional member: `.some(nil)` when absent, `.some(value)` when present and
        /// well-typed, nil when present but mistyped (so `guard let` refuses only that).
        func optional<T>(_ key: String, _ read: (String) -> T?) -> T?? {
            guard members[key] != nil else { return .some(nil) }
            return read(key).map { .some($0) }
        }
    }
}
