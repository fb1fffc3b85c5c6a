import BusProtocol
import Topics

/// Where one subscription stands, so it can resume after any cut (Protocol.md "History and
/// resume", "Resuming a pattern"), and which incoming messages are new to it. Pure.
///
/// - A literal topic keeps the position of the last message it accepted.
/// - A pattern keeps its cursor (from its ack and each checkpoint) and the positions of the
///   messages accepted since the last checkpoint.
/// - Either way a message at or below the last accepted seq of its topic and epoch is a
///   duplicate and is dropped; a new epoch for a topic already seen is a gap.
struct ResumeTracker: Sendable {
    let pattern: TopicPattern
    let start: StartPosition
    private(set) var cursor: Cursor?
    /// Per topic: the last accepted position. For a pattern, only those since the last
    /// checkpoint are sent with a resume; older ones stay for duplicate detection.
    private var last: [String: (epoch: String, seq: UInt64)] = [:]
    private var sinceCheckpoint: Set<String> = []
    /// Bounds what a pattern remembers for duplicate detection.
    static let maxRemembered = 10_000

    init(pattern: TopicPattern, start: StartPosition) {
        self.pattern = pattern
        self.start = start
        if case .cursor(let text) = start { cursor = Cursor(parsing: text) }
        if case .after(let epoch, let seq) = start, let topic = pattern.literal { last[topic.string] = (epoch, seq) }
    }

    /// Whether its subscribe asks for a replay (a position, a cursor, or the newest `n`).
    var resumes: Bool {
        if cursor != nil || !last.isEmpty { return true }
        if case .last = start { return true }
        return false
    }

    /// What a message means to the subscription.
    enum Verdict: Equatable {
        case deliver
        case duplicate
        /// Deliver, after a gap: the topic's epoch changed since the last message.
        case deliverAfterEpochChange
    }

    mutating func accept(topic: String, epoch: String, seq: UInt64) -> Verdict {
        var verdict = Verdict.deliver
        if let known = last[topic] {
            if known.epoch == epoch {
                if seq <= known.seq { return .duplicate }
            } else {
                verdict = .deliverAfterEpochChange
            }
        }
        if last.count >= Self.maxRemembered && last[topic] == nil && !sinceCheckpoint.isEmpty {
            // Forget what a checkpoint already covers; the rest must stay for the resume.
            for key in last.keys where !sinceCheckpoint.contains(key) { last[key] = nil }
        }
        last[topic] = (epoch, seq)
        if pattern.literal == nil { sinceCheckpoint.insert(topic) }
        return verdict
    }

    /// A literal topic's subscribe ack: where it stood, so a cut before its first message
    /// still resumes from there.
    mutating func started(epoch: String, seq: UInt64) {
        guard let topic = pattern.literal?.string, last[topic] == nil else { return }
        last[topic] = (epoch, seq)
    }

    /// An ack or checkpoint with the subscription's cursor: a checkpoint covers everything
    /// accepted so far; an ack's cursor is where a replay starts, so nothing is covered yet.
    mutating func follow(cursor text: String, checkpoint: Bool) {
        guard let parsed = Cursor(parsing: text) else { return }
        cursor = parsed
        if checkpoint { sinceCheckpoint.removeAll() }
    }

    /// The subscribe request that resumes from here (or starts, the first time).
    func request(id: String) -> [UInt8] {
        let topic = pattern.string
        if let literal = pattern.literal, let known = last[literal.string] {
            return ClientEnvelope.subscribe(topic: topic, id: id, resume: .since(epoch: known.epoch, seq: known.seq))
        }
        if let cursor {
            let positions = sinceCheckpoint.prefix(ClientRequest.maxResumePositions).compactMap { topic in
                last[topic].map { ResumePosition(topic: topic, epoch: $0.epoch, seq: $0.seq) }
            }
            return ClientEnvelope.subscribe(topic: topic, id: id, resume: .cursor(cursor, positions: positions))
        }
        if case .last(let count) = start { return ClientEnvelope.subscribe(topic: topic, id: id, resume: .last(count)) }
        return ClientEnvelope.subscribe(topic: topic, id: id, checkpoints: pattern.literal == nil)
    }
}
