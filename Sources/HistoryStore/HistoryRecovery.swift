import Topics

/// Rebuilds topics' positions and retained messages from history segments, oldest segment
/// first, without I/O. Memory stays bounded whatever the files hold: each topic keeps at most
/// its policy's message count, and when all topics together hold more than twice the byte
/// budget the oldest messages go first; `finish` trims to the budget itself (the loops'
/// ledgers then apply their exact shares of it).
///
/// Continuity is claimed only when true. A topic keeps its epoch and seq (so a client resuming
/// across the restart gets `recovered: true`) only if the caller trusts the segments' tails
/// (`finish(trusted:)`: a graceful stop, or a crash the durability mode covers) and its own
/// records have no gap; otherwise it starts a new epoch, its retained messages renumbered from 1.
public struct HistoryRecovery {
    /// A topic as recovered: where it stands and what it retains, oldest first and contiguous
    /// up to `seq`.
    public struct Topic: Sendable {
        public let topic: TopicName
        public let epoch: String
        public let seq: UInt64
        /// False when the topic starts a new epoch here (an untrusted tail, or a gap).
        public let continued: Bool
        public let messages: [StoredMessage]
        public let lastWallNanos: UInt64
        /// The owner offset of its newest record, retained or not (0 when unknown): a cursor
        /// below it may have missed messages of this topic that history no longer holds.
        public let lastOffset: UInt64
    }

    /// Why a segment was cut, and where.
    public struct Cut: Equatable, Sendable {
        public enum Reason: Equatable, Sendable {
            /// The file ends inside a record (a write torn by a crash or power loss).
            case torn
            case invalid(RecordCodec.RecordError)
            /// The header is not a bus segment's.
            case foreignHeader
        }
        /// Bytes of the segment that stay (0 when even the header is bad).
        public let validLength: Int
        public let reason: Reason
    }

    /// A policy's bounds for a topic: messages kept and their age.
    public typealias Policy = (messages: Int, maxAgeNanos: UInt64)

    private struct Log {
        var epoch: String
        var seq: UInt64
        var gap = false
        var messages: [StoredMessage] = []
        var head = 0
        var lastWall: UInt64 = 0
        var lastOffset: UInt64 = 0
        let policy: Policy

        var count: Int { messages.count - head }

        mutating func dropFirst(_ n: Int) -> Int {
            var freed = 0
            for index in head..<(head + n) { freed += messages[index].payload.count }
            head += n
            if head > 64 && head * 2 > messages.count {
                messages.removeFirst(head)
                head = 0
            }
            return freed
        }

        mutating func removeAll() -> Int { dropFirst(count) }
    }

    private var logs: [TopicName: Log] = [:]
    private var order: [TopicName] = []
    private var retainedBytes = 0
    let maxBodyLength: Int
    let limits: TopicLimits
    let byteBudget: Int
    let policy: (TopicName) -> Policy
    /// Records accepted (a cut record is not).
    public private(set) var records = 0

    public init(maxBodyLength: Int, limits: TopicLimits, byteBudget: Int, policy: @escaping (TopicName) -> Policy) {
        self.maxBodyLength = maxBodyLength
        self.limits = limits
        self.byteBudget = max(1, byteBudget)
        self.policy = policy
    }

    /// Reads one segment's bytes. Returns nil when all of it is valid, else where to cut it;
    /// nothing from the cut on is used. A segment of a later format throws: it is not ours to cut.
    public mutating func scan(segment bytes: UnsafeRawBufferPointer) throws(UnsupportedVersion) -> Cut? {
        switch RecordCodec.checkHeader(bytes) {
        case .valid: break
        case .empty: return bytes.isEmpty ? nil : Cut(validLength: 0, reason: .torn)
        case .foreign: return Cut(validLength: 0, reason: .foreignHeader)
        case .unsupported(let version): throw UnsupportedVersion(version: version)
        }
        var at = RecordCodec.headerSize
        while at < bytes.count {
            switch RecordCodec.decode(UnsafeRawBufferPointer(rebasing: bytes[at...]), maxBodyLength: maxBodyLength, limits: limits) {
            case .incomplete:
                return Cut(validLength: at, reason: .torn)
            case .invalid(let error):
                return Cut(validLength: at, reason: .invalid(error))
            case .record(let message, let length):
                if let error = add(message) { return Cut(validLength: at, reason: .invalid(error)) }
                at += length
            }
        }
        return nil
    }

    public struct UnsupportedVersion: Error, Equatable {
        public let version: UInt32
    }

    /// Adds one decoded record; an error when its seq does not follow its topic's.
    mutating func add(_ message: StoredMessage) -> RecordCodec.RecordError? {
        var message = message
        if var log = logs.removeValue(forKey: message.topic) {
            if log.epoch == message.epoch {
                message.epoch = log.epoch  // one copy of the epoch per topic, not one per message
                guard message.seq > log.seq else {
                    logs[message.topic] = log
                    return .seqNotIncreasing(message.seq)
                }
                if message.seq != log.seq + 1 {
                    // Records missing in the middle: what is retained no longer reaches the
                    // end, and this life cannot claim continuity.
                    log.gap = true
                    retainedBytes -= log.removeAll()
                }
            } else {
                // A new life of the topic (evicted, renewed, or a restart that started a new epoch).
                retainedBytes -= log.removeAll()
                log = Log(epoch: message.epoch, seq: 0, policy: log.policy)
            }
            logs[message.topic] = append(message, to: log)
        } else {
            order.append(message.topic)
            logs[message.topic] = append(message, to: Log(epoch: message.epoch, seq: 0, policy: policy(message.topic)))
        }
        records += 1
        if retainedBytes > 2 * byteBudget { trimOldest() }
        return nil
    }

    private mutating func append(_ message: StoredMessage, to log: Log) -> Log {
        var log = log
        log.seq = message.seq
        log.lastWall = max(log.lastWall, message.wallNanos)
        log.lastOffset = max(log.lastOffset, message.offset)
        guard message.kind != .position, log.policy.messages > 0 else {
            // History off for it: its retained messages would not reach its seq.
            retainedBytes -= log.removeAll()
            return log
        }
        log.messages.append(message)
        retainedBytes += message.payload.count
        if log.count > log.policy.messages { retainedBytes -= log.dropFirst(log.count - log.policy.messages) }
        return log
    }

    /// Drops the oldest retained messages across topics until they fit the byte budget.
    private mutating func trimOldest() {
        var sizes: [(wall: UInt64, bytes: Int)] = []
        for log in logs.values {
            for index in log.head..<log.messages.count { sizes.append((log.messages[index].wallNanos, log.messages[index].payload.count)) }
        }
        sizes.sort { $0.wall < $1.wall }
        var remaining = retainedBytes
        var cutoff: UInt64?
        for entry in sizes where remaining > byteBudget {
            remaining -= entry.bytes
            cutoff = entry.wall
        }
        guard let cutoff else { return }
        for key in Array(logs.keys) {
            var log = logs[key]!
            var n = 0
            while log.head + n < log.messages.count && log.messages[log.head + n].wallNanos <= cutoff { n += 1 }
            guard n > 0 else { continue }
            retainedBytes -= log.dropFirst(n)
            logs[key] = log
        }
    }

    /// The recovered topics, in the order they first appeared. `trusted`: the segments hold
    /// every message the last life delivered. Messages older than their policy's age at
    /// `nowWall` are left out; a topic that starts a new epoch gets one from `newEpoch`.
    public mutating func finish(trusted: Bool, nowWall: UInt64, newEpoch: () -> String) -> [Topic] {
        // Within the budget itself now (scanning allowed twice as much): the compacted
        // segment is what history keeps, no more.
        if retainedBytes > byteBudget { trimOldest() }
        var out: [Topic] = []
        out.reserveCapacity(logs.count)
        for name in order {
            guard let log = logs[name] else { continue }
            let age = log.policy.maxAgeNanos
            var messages = Array(log.messages[log.head...].drop { nowWall > age && $0.wallNanos < nowWall - age })
            if trusted && !log.gap {
                out.append(Topic(topic: name, epoch: log.epoch, seq: log.seq, continued: true, messages: messages, lastWallNanos: log.lastWall,
                                 lastOffset: log.lastOffset))
            } else {
                let epoch = newEpoch()
                for index in messages.indices {
                    messages[index].epoch = epoch
                    messages[index].seq = UInt64(index + 1)
                }
                out.append(Topic(topic: name, epoch: epoch, seq: UInt64(messages.count), continued: false, messages: messages,
                                 lastWallNanos: log.lastWall, lastOffset: log.lastOffset))
            }
        }
        return out
    }

    /// Topics seen so far.
    public var topicCount: Int { logs.count }
}
