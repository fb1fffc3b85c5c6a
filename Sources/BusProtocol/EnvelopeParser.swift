/// Reads a client's text frame into a `ClientRequest` (Protocol.md "Text envelopes").
///
/// One pass over the frame validates all of it, nested `data` included; the only allocation
/// for a well-formed request is the topic `String`. Checks run in a fixed order so each input
/// has one answer: invalid JSON or not an object (`bad_json`) before a duplicate key, then
/// `type`, then `id`, then `topic`, then `data`. Whatever fails, the error carries the id if
/// a valid one was read and the topic if one was read, so the client can correlate it.
public enum EnvelopeParser {
    /// Longest string id, in raw bytes between the quotes (Protocol.md: "at most 64 bytes").
    public static let maxIDLength = 64

    /// Parses one text frame. `maxDepth` limits the nesting of each member value (so of
    /// `data`); the envelope object itself does not count.
    public static func parse(_ bytes: UnsafeRawBufferPointer,
                             maxDepth: Int = JSON.defaultMaxDepth) -> Result<ClientRequest, RequestError> {
        var members = EnvelopeMembers()
        do throws(JSONError) {
            try JSON.scanObject(bytes, maxDepth: maxDepth) { key, value in
                members.record(key: key, value: value)
            }
        } catch {
            return .failure(RequestError(code: .badJSON, message: error.message))
        }
        return request(from: members, in: bytes)
    }

    /// Applies the field rules to the members of a valid JSON object.
    static func request(from members: EnvelopeMembers,
                        in bytes: UnsafeRawBufferPointer) -> Result<ClientRequest, RequestError> {
        // id and topic first: every error below echoes whichever of them could be read.
        var id: Range<Int>?
        var idIsBad = false
        if let range = members.id, !members.idDuplicated {
            if isIDValid(UnsafeRawBufferPointer(rebasing: bytes[range])) { id = range } else { idIsBad = true }
        }
        var topic: String?
        var topicProblem = (code: ErrorCode.badRequest, message: "missing field \"topic\"")
        if let range = members.topic, !members.topicDuplicated {
            if bytes[range.lowerBound] != 0x22 {
                topicProblem.message = "field \"topic\" must be a string"
            } else if let text = JSON.decodeScannedString(UnsafeRawBufferPointer(rebasing: bytes[range])) {
                topic = text
            } else {
                topicProblem = (.invalidTopic, "topic escapes a lone surrogate")
            }
        }
        func failure(_ code: ErrorCode, _ message: String) -> Result<ClientRequest, RequestError> {
            .failure(RequestError(code: code, message: message, id: id, topic: topic))
        }

        if let duplicate = members.duplicateKey {
            return failure(.badRequest, "duplicate key \(JSONText.quoted(duplicate))")
        }
        guard let typeRange = members.type else { return failure(.badRequest, "missing field \"type\"") }
        guard bytes[typeRange.lowerBound] == 0x22 else {
            return failure(.badRequest, "field \"type\" must be a string")
        }
        let typeContent = UnsafeRawBufferPointer(rebasing: bytes[typeRange.lowerBound + 1 ..< typeRange.upperBound - 1])
        guard let kind = kind(typeContent) else {
            var unescaped: [UInt8] = []
            _ = JSON.unescape(typeContent, into: &unescaped)
            let name = unescaped.withUnsafeBytes { EnvelopeMembers.displayName($0) }
            return failure(.unknownType, "unknown type \(JSONText.quoted(name))")
        }
        if idIsBad {
            return failure(.badRequest, "id must be a string of at most \(maxIDLength) bytes or an integer")
        }
        guard let topic else { return failure(topicProblem.code, topicProblem.message) }
        if kind == .publish, members.data == nil { return failure(.badRequest, "missing field \"data\"") }
        var resume: ClientRequest.Resume?
        var checkpoints = false
        if kind == .subscribe {
            switch Self.resume(since: members.since, last: members.last, in: bytes) {
            case .success(let value): resume = value
            case .failure(let problem): return failure(.badRequest, problem.message)
            }
            if let range = members.checkpoints {
                let raw = UnsafeRawBufferPointer(rebasing: bytes[range])
                if EnvelopeMembers.equals(raw, "true") { checkpoints = true } else if !EnvelopeMembers.equals(raw, "false") {
                    return failure(.badRequest, "\"checkpoints\" must be true or false")
                }
            }
        }
        return .success(ClientRequest(kind: kind, id: id, topic: topic, data: kind == .publish ? members.data : nil, resume: resume,
                                      checkpoints: checkpoints))
    }

    /// Reads `since` (`{"epoch":"…","seq":N}`) or `last` (`N`); at most one of them.
    static func resume(since: Range<Int>?, last: Range<Int>?, in bytes: UnsafeRawBufferPointer)
        -> Result<ClientRequest.Resume?, ResumeProblem> {
        if since != nil && last != nil { return .failure(ResumeProblem("\"since\" and \"last\" exclude each other")) }
        if let last {
            guard let count = JSON.decodeUnsignedInteger(UnsafeRawBufferPointer(rebasing: bytes[last])), count <= Int.max else {
                return .failure(ResumeProblem("\"last\" must be a non-negative integer"))
            }
            return .success(.last(Int(count)))
        }
        guard let since else { return .success(nil) }
        var fields = SinceFields()
        let object = UnsafeRawBufferPointer(rebasing: bytes[since])
        do throws(JSONError) {
            try JSON.scanObject(object) { rawKey, value in fields.record(rawKey, UnsafeRawBufferPointer(rebasing: object[value])) }
        } catch {
            fields.wellFormed = false
        }
        if let duplicate = fields.duplicate { return .failure(ResumeProblem("duplicate key \(JSONText.quoted(duplicate))")) }
        if fields.cursorText != nil || fields.positions != nil {
            return cursorResume(fields)
        }
        guard fields.wellFormed, let epoch = fields.epoch, let seq = fields.seq else {
            return .failure(ResumeProblem("\"since\" must be {\"epoch\": string, \"seq\": non-negative integer} or {\"cursor\": string}"))
        }
        return .success(.since(epoch: epoch, seq: seq))
    }

    /// `{"cursor":"…","positions":[…]}`: a pattern subscription's cursor and the positions
    /// the client holds past it.
    private static func cursorResume(_ fields: SinceFields) -> Result<ClientRequest.Resume?, ResumeProblem> {
        guard fields.wellFormed, fields.epoch == nil, fields.seq == nil, let text = fields.cursorText else {
            return .failure(ResumeProblem("\"since\" with a cursor must be {\"cursor\": string, \"positions\": [{\"topic\", \"epoch\", \"seq\"}]}"))
        }
        guard let cursor = Cursor(parsing: text) else {
            return .failure(ResumeProblem("malformed cursor: use one from an ack or a checkpoint"))
        }
        var positions: [ResumePosition] = []
        if let raw = fields.positions {
            var problem: ResumeProblem?
            let scanned: Bool = raw.withUnsafeBytes { array in
                do throws(JSONError) {
                    try JSON.scanArray(array, maxDepth: 2) { element in
                        guard problem == nil else { return }
                        guard positions.count < ClientRequest.maxResumePositions else {
                            problem = ResumeProblem("at most \(ClientRequest.maxResumePositions) positions")
                            return
                        }
                        guard let position = Self.position(UnsafeRawBufferPointer(rebasing: array[element])) else {
                            problem = ResumeProblem("each position must be {\"topic\": string, \"epoch\": string, \"seq\": non-negative integer}")
                            return
                        }
                        positions.append(position)
                    }
                    return true
                } catch {
                    return false
                }
            }
            guard scanned else { return .failure(ResumeProblem("\"positions\" must be an array")) }
            if let problem { return .failure(problem) }
        }
        return .success(.cursor(cursor, positions: positions))
    }

    private static func position(_ object: UnsafeRawBufferPointer) -> ResumePosition? {
        var fields = SinceFields()
        do throws(JSONError) {
            try JSON.scanObject(object) { rawKey, value in fields.record(rawKey, UnsafeRawBufferPointer(rebasing: object[value])) }
        } catch {
            return nil
        }
        guard fields.wellFormed, fields.duplicate == nil, fields.cursorText == nil, fields.positions == nil,
              let topic = fields.topic, let epoch = fields.epoch, let seq = fields.seq else { return nil }
        return ResumePosition(topic: topic, epoch: epoch, seq: seq)
    }

    /// The members of a `since` object (or of one of its positions). Duplicate keys are
    /// refused here as in the envelope (Protocol.md), compared unescaped; unknown keys are
    /// ignored.
    private struct SinceFields {
        var epoch: String?
        var seq: UInt64?
        var topic: String?
        var cursorText: String?
        var positions: [UInt8]?
        var wellFormed = true
        var keys: Set<[UInt8]> = []
        var duplicate: String?

        mutating func record(_ rawKey: UnsafeRawBufferPointer, _ raw: UnsafeRawBufferPointer) {
            var key: [UInt8] = []
            if rawKey.contains(0x5C) { _ = JSON.unescape(rawKey, into: &key) } else { key = Array(rawKey) }
            guard keys.insert(key).inserted else {
                if duplicate == nil { duplicate = key.withUnsafeBytes { EnvelopeMembers.displayName($0) } }
                return
            }
            func string() -> String? {
                let text = raw.first == 0x22 ? JSON.decodeString(raw) : nil
                if text == nil { wellFormed = false }
                return text
            }
            if key.elementsEqual("epoch".utf8) {
                epoch = string()
            } else if key.elementsEqual("seq".utf8) {
                seq = JSON.decodeUnsignedInteger(raw)
                if seq == nil { wellFormed = false }
            } else if key.elementsEqual("topic".utf8) {
                topic = string()
            } else if key.elementsEqual("cursor".utf8) {
                cursorText = string()
            } else if key.elementsEqual("positions".utf8) {
                positions = Array(raw)
            }
        }
    }

    struct ResumeProblem: Error {
        let message: String
        init(_ message: String) { self.message = message }
    }

    /// A string of at most `maxIDLength` raw bytes, or an integer that fits in an `Int64`
    /// (a bound, so the echo stays small; clients count ids, they do not send 1000 digits).
    static func isIDValid(_ token: UnsafeRawBufferPointer) -> Bool {
        if token[0] == 0x22 { return token.count - 2 <= maxIDLength }
        return JSON.decodeInteger(token) != nil
    }

    /// The request kind named by the raw (escaped) content of the `type` string.
    static func kind(_ content: UnsafeRawBufferPointer) -> ClientRequest.Kind? {
        guard content.contains(0x5C) else { return kind(unescaped: content) }
        var unescaped: [UInt8] = []
        _ = JSON.unescape(content, into: &unescaped)
        // Once only: a backslash in the unescaped name is a character, not an escape.
        return unescaped.withUnsafeBytes { kind(unescaped: $0) }
    }

    /// The request kind named by already unescaped bytes.
    static func kind(unescaped content: UnsafeRawBufferPointer) -> ClientRequest.Kind? {
        if EnvelopeMembers.equals(content, "subscribe") { return .subscribe }
        if EnvelopeMembers.equals(content, "unsubscribe") { return .unsubscribe }
        if EnvelopeMembers.equals(content, "publish") { return .publish }
        return nil
    }
}
