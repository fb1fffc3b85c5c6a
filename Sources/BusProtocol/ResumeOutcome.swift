/// What a subscribe ack says about a resume (Protocol.md "History and resume", "Resuming a
/// pattern"), as a client reads it: the cursor, whether the recovery is complete, and what
/// was lost. Fields an ack does not carry are nil or empty.
public struct ResumeOutcome: Sendable, Equatable {
    public var cursor: String?
    public var recovered: Bool?
    /// A topic resume's oldest retained position.
    public var earliest: Position?
    /// A pattern resume's topics that lost messages, with the oldest position each holds.
    public var lost: [LostTopic] = []

    public struct Position: Sendable, Equatable {
        public let epoch: String
        public let seq: UInt64
    }

    public struct LostTopic: Sendable, Equatable {
        public let topic: String
        public let earliest: Position?
    }

    /// Reads an ack's text; nil if it is not a JSON object.
    public static func parse(_ bytes: UnsafeRawBufferPointer) -> ResumeOutcome? {
        var outcome = ResumeOutcome()
        do throws(JSONError) {
            try JSON.scanObject(bytes) { key, value throws(JSONError) in
                let raw = UnsafeRawBufferPointer(rebasing: bytes[value])
                if JSON.keyEquals(key, "cursor") {
                    outcome.cursor = JSON.decodeString(raw)
                } else if JSON.keyEquals(key, "recovered") {
                    outcome.recovered = EnvelopeMembers.equals(raw, "true") ? true : EnvelopeMembers.equals(raw, "false") ? false : nil
                } else if JSON.keyEquals(key, "earliest") {
                    outcome.earliest = position(raw)
                } else if JSON.keyEquals(key, "lost") {
                    try JSON.scanArray(raw) { element throws(JSONError) in
                        let entry = UnsafeRawBufferPointer(rebasing: raw[element])
                        var topic: String?
                        var earliest: Position?
                        try JSON.scanObject(entry) { key, value throws(JSONError) in
                            let field = UnsafeRawBufferPointer(rebasing: entry[value])
                            if JSON.keyEquals(key, "topic") { topic = JSON.decodeString(field) }
                            if JSON.keyEquals(key, "earliest") { earliest = position(field) }
                        }
                        if let topic { outcome.lost.append(LostTopic(topic: topic, earliest: earliest)) }
                    }
                }
            }
        } catch {
            return nil
        }
        return outcome
    }

    private static func position(_ raw: UnsafeRawBufferPointer) -> Position? {
        var epoch: String?
        var seq: UInt64?
        do throws(JSONError) {
            try JSON.scanObject(raw) { key, value in
                let field = UnsafeRawBufferPointer(rebasing: raw[value])
                if JSON.keyEquals(key, "epoch") { epoch = JSON.decodeString(field) }
                if JSON.keyEquals(key, "seq") { seq = JSON.decodeUnsignedInteger(field) }
            }
        } catch {
            return nil
        }
        guard let epoch, let seq else { return nil }
        return Position(epoch: epoch, seq: seq)
    }
}
