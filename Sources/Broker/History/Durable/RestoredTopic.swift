import BusProtocol
import HistoryStore
import Topics

/// A recovered topic as its owner loop takes it at start-up: its position and its retained
/// messages as frames (built once, on the starting thread: frames are immutable and cross
/// to the loop like any other), with their wall-clock times and offsets.
struct RestoredTopic: Sendable {
    let topic: TopicName
    let epoch: String
    let seq: UInt64
    let continued: Bool
    let lastWallNanos: UInt64
    /// Oldest first, contiguous up to `seq`.
    var frames: [OutboundBytes] = []
    var wallNanos: [UInt64] = []
    var maxOffset: UInt64 = 0
    /// The offset of its newest record, retained or not.
    let lastOffset: UInt64

    /// The position alone; `fill` adds the frames.
    init(shell topic: HistoryRecovery.Topic) {
        self.topic = topic.topic
        epoch = topic.epoch
        seq = topic.seq
        continued = topic.continued
        lastWallNanos = topic.lastWallNanos
        lastOffset = topic.lastOffset
    }

    /// Position and frames straight from the decoded messages (when there is no compacted
    /// segment to read them from).
    init(building topic: HistoryRecovery.Topic) {
        self.init(shell: topic)
        for message in topic.messages { message.payload.withUnsafeBytes { add(message, payload: $0) } }
    }

    /// Adds a retained message's frame. A JSON payload that does not validate (a file written
    /// by something else) drops it and everything before it: a text frame never carries what a
    /// publish could not, and what stays still reaches `seq`.
    mutating func add(_ message: StoredMessage, payload: UnsafeRawBufferPointer) {
        guard message.kind != .json || JSON.validateValue(payload) else {
            frames.removeAll()
            wallNanos.removeAll()
            return
        }
        let kind: PayloadKind = message.kind == .binary ? .binary : .json
        frames.append(Self.frame(kind: kind, topic: topic, position: TopicPosition(epoch: epoch, seq: message.seq), payload: payload,
                                 offset: message.offset))
        wallNanos.append(message.wallNanos)
        maxOffset = max(maxOffset, message.offset)
    }

    /// `DeliveryFrame.make`, out of line: inlined here, Swift 6.3's optimizer crashed
    /// (CopyPropagation, "Found ownership error") building release.
    @inline(never)
    static func frame(kind: PayloadKind, topic: TopicName, position: TopicPosition, payload: UnsafeRawBufferPointer,
                      offset: UInt64) -> OutboundBytes {
        DeliveryFrame.make(kind: kind, topic: topic, position: position, payload: payload, arrival: 0, offset: offset)
    }

    /// Reads the frames of `shells` (in order, `counts[i]` messages each, a position record for
    /// a topic with none) back from the compacted segment `compact` just wrote, mapped
    /// read-only. A record that does not decode as expected ends the filling: the topics left
    /// keep their positions and retain nothing (a resume then says `recovered: false`).
    static func fill(_ shells: inout [RestoredTopic], counts: [Int], fromSegment path: String, maxBodyLength: Int, limits: TopicLimits) {
        _ = Sys.withMappedFile(path) { bytes in
            var at = RecordCodec.headerSize
            for index in shells.indices {
                for _ in 0..<max(counts[index], 1) {
                    guard case .record(let message, let length) = RecordCodec.decode(UnsafeRawBufferPointer(rebasing: bytes[at...]),
                                                                                     maxBodyLength: maxBodyLength, limits: limits),
                          message.topic == shells[index].topic else { return }
                    at += length
                    if message.kind != .position { message.payload.withUnsafeBytes { shells[index].add(message, payload: $0) } }
                }
            }
        }
    }
}
