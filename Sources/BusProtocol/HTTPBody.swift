/// The JSON bodies of the plain HTTP endpoints (Protocol.md "HTTP publish", "HTTP history"),
/// written by the same appenders as the WebSocket envelopes: fixed key order, no spaces, one
/// line each.
public enum HTTPBody {
    /// `{"code":…,"message":…}` and a newline: every HTTP error of the publish and history
    /// endpoints.
    public static func error(code: String, message: String) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(32 + code.utf8.count + message.utf8.count)
        bytes.appendLiteral(#"{"code":"#)
        bytes.appendQuoted(code)
        bytes.appendLiteral(#","message":"#)
        bytes.appendQuoted(message)
        bytes.appendLiteral("}\n")
        return bytes
    }

    /// A publish's outcome: `{"topic":…,"epoch":…,"seq":N,"subscribers":N}` and a newline.
    public static func published(topic: String, epoch: String, seq: UInt64, subscribers: Int) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(64 + topic.utf8.count + epoch.utf8.count)
        bytes.appendLiteral(#"{"topic":"#)
        bytes.appendQuoted(topic)
        bytes.appendLiteral(#","epoch":"#)
        bytes.appendQuoted(epoch)
        bytes.appendLiteral(#","seq":"#)
        bytes.appendDecimal(seq)
        bytes.appendLiteral(#","subscribers":"#)
        bytes.appendDecimal(subscribers)
        bytes.appendLiteral("}\n")
        return bytes
    }

    /// `/healthz`: `{"status":"ok","connections":N,"loops":N,"backplane":…}` and a newline;
    /// `backplane` is raw JSON (the cluster link's state, or `"none"`).
    public static func health(connections: Int, loops: Int, backplane: String) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.appendLiteral(#"{"status":"ok","connections":"#)
        bytes.appendDecimal(connections)
        bytes.appendLiteral(#","loops":"#)
        bytes.appendDecimal(loops)
        bytes.appendLiteral(#","backplane":"#)
        bytes.append(contentsOf: backplane.utf8)
        bytes.appendLiteral("}\n")
        return bytes
    }

    /// `/readyz`: `{"status":…}` and a newline.
    public static func readiness(_ status: String) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.appendLiteral(#"{"status":"#)
        bytes.appendQuoted(status)
        bytes.appendLiteral("}\n")
        return bytes
    }

    /// A history answer up to its first message: `{"topic":…,"epoch":…,"seq":N,
    /// "recovered":bool[,"earliest":{…}],"more":bool,"messages":[`.
    public static func historyPrefix(topic: String, epoch: String, seq: UInt64, recovered: Bool,
                                     earliest: (epoch: String, seq: UInt64)?, more: Bool) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(128 + topic.utf8.count)
        bytes.appendLiteral(#"{"topic":"#)
        bytes.appendQuoted(topic)
        bytes.appendLiteral(#","epoch":"#)
        bytes.appendQuoted(epoch)
        bytes.appendLiteral(#","seq":"#)
        bytes.appendDecimal(seq)
        bytes.appendRecovery(recovered: recovered, earliest: earliest)
        bytes.appendLiteral(more ? #","more":true"# : #","more":false"#)
        bytes.appendLiteral(#","messages":["#)
        return bytes
    }

    /// One history message up to its payload: `{"seq":N,"data":` (JSON follows, then `}`) or
    /// `{"seq":N,"binary":"` (base64 follows, then `"}`), after a comma unless it is the first.
    public static func historyMessagePrefix(seq: UInt64, binary: Bool, first: Bool) -> [UInt8] {
        var bytes: [UInt8] = []
        if !first { bytes.append(0x2C) }
        bytes.appendLiteral(#"{"seq":"#)
        bytes.appendDecimal(seq)
        bytes.appendLiteral(binary ? #","binary":""# : #","data":"#)
        return bytes
    }

    /// What closes a history message after its payload.
    public static func historyMessageSuffix(binary: Bool) -> [UInt8] { binary ? [0x22, 0x7D] : [0x7D] }

    /// What closes a history answer: `]}` and a newline.
    public static let historySuffix: [UInt8] = Array("]}\n".utf8)
}
