import BusProtocol
import Topics

/// **The seam** between Server-Sent Events and resumable positions: every decision about what
/// an event's `id:` says and how a stream resumes from one lives in this file, and nowhere else
/// in `SSE/`. `EventStream` only calls it:
///
/// 1. `init(patterns:)` with the stream's patterns (deduplicated, sorted);
/// 2. `plan(for:)` with what the client asked (`Last-Event-ID`, else `?since=`, else `?last=`),
///    then `start(_:for:on:)` makes the hub calls the plan needs;
/// 3. `advance(past:)` for each message as it is queued, whose result is that event's `id:`;
/// 4. `settle(_:at:)` when a pattern is in (its ack, or its replay's last page) with the
///    position the hub reported;
/// 5. `rewind(before:)` when a slow stream is dropped, with the stamps of what it lost, so
///    `id` names the last event actually sent;
/// 6. `id` for the empty events after the subscribe and on each heartbeat.
///
/// This implementation resumes streams whose patterns are all literal topics (at most
/// `maxTopics`), through the per-topic resume `/bus` uses (`LoopHub.resume`):
/// - one topic: `t:<epoch>:<seq>`, the position of the last message sent;
/// - several: `t:<epoch>:<seq>,<epoch>:<seq>,…`, one per topic in the stream's (sorted) order;
///   `-` for a topic whose position is not known yet (replayed from its start, not a recovery).
/// A stream with a wildcard pattern (or more topics) follows a **cursor** (Protocol.md,
/// "Resuming a pattern"): every pattern is a cursor subscription, and each event's id is the
/// stream's cursor as that event is queued — per owner loop, the least offset any of its
/// patterns stands at, so everything up to it has been queued before the event. The id is
/// exact at every event, so a resume needs no positions beside it.
struct EventStreamPosition {
    /// What the client asked for, by precedence: `Last-Event-ID` wins over `?since=`, which
    /// wins over `?last=`.
    enum Request: Equatable {
        case none
        case id(String)
        case last(Int)
    }

    /// How a stream subscribes.
    struct Plan {
        /// Per pattern: nil to go live at once, else where its replay starts.
        var starts: [(pattern: TopicPattern, from: ReplayStart?)]
        /// The client asked to resume: its `recovered` event is due once every pattern is in.
        var resuming: Bool
        /// Why the requested position cannot be used at all (malformed, from another stream or
        /// server, or a stream that cannot resume): answered `recovered: false` at once.
        var refused: String?
        /// Cursor streams: resume every pattern from this cursor, or its newest `last`.
        var cursor: Cursor?
        var last: Int?
    }

    /// Most literal topics whose positions fit one id within 256 bytes (each at most a
    /// 16-digit epoch, `:`, a 20-digit seq and a comma).
    static let maxTopics = 6
    static let liveID = "live"

    private let patterns: [TopicPattern]
    private let topics: [TopicName]?
    private var positions: [TopicName: TopicPosition] = [:]
    /// Cursor streams: where the offsets come from, and where a drop rewound them to.
    private var source: CursorSource?
    private var rewound: [UInt64]?

    /// A cursor stream's hub and subscriber, read for its offsets.
    private final class CursorSource {
        unowned let hub: LoopHub
        unowned let stream: Subscriber
        init(hub: LoopHub, stream: Subscriber) {
            self.hub = hub
            self.stream = stream
        }

        /// Per owner, the least offset of the stream's cursor subscriptions.
        var offsets: [UInt64] {
            var least = hub.heard
            for subscription in stream.cursors ?? [] {
                for (owner, offset) in subscription.offsets(heard: hub.heard).enumerated() where offset < least[owner] {
                    least[owner] = offset
                }
            }
            return least
        }
    }

    init(patterns: [TopicPattern]) {
        self.patterns = patterns
        let literals = patterns.compactMap(\.literal)
        topics = literals.count == patterns.count && literals.count <= Self.maxTopics ? literals : nil
    }

    /// The stream cannot resume: its id only says so.
    var isLiveOnly: Bool { topics == nil }

    /// Also takes the requested positions as the stream's own: until a topic moves, its
    /// events name the position the client came back with.
    mutating func plan(for request: Request) -> Plan {
        let live = patterns.map { (pattern: $0, from: ReplayStart?.none) }
        guard let topics else {
            switch request {
            case .none: return Plan(starts: live, resuming: false, refused: nil)
            case .last(let count): return Plan(starts: live, resuming: true, refused: nil, last: count)
            case .id(let text):
                guard let cursor = Cursor(parsing: text), EventStreamEncoding.isValidID(text.utf8) else {
                    return Plan(starts: live, resuming: true, refused: "the id \(Self.shown(text)) is not a position of this stream")
                }
                return Plan(starts: live, resuming: true, refused: nil, cursor: cursor)
            }
        }
        switch request {
        case .none:
            return Plan(starts: live, resuming: false, refused: nil)
        case .last(let count):
            return Plan(starts: topics.map { (TopicPattern($0), .last(count)) }, resuming: true, refused: nil)
        case .id(let text):
            guard let parsed = Self.parse(text, topics: topics.count) else {
                return Plan(starts: live, resuming: true, refused: "the id \(Self.shown(text)) is not a position of this stream")
            }
            for (topic, position) in zip(topics, parsed) { if let position { positions[topic] = position } }
            let starts = zip(topics, parsed).map { topic, position in
                // Unknown: everything retained, as a position from another epoch gets.
                (TopicPattern(topic), ReplayStart.since(epoch: position?.epoch ?? "", seq: position?.seq ?? 0))
            }
            return Plan(starts: starts, resuming: true, refused: nil)
        }
    }

    /// Subscribes `stream` as `plan` says: replays on the owners for resumed topics, live
    /// subscriptions for the rest. Each answers `settle` (through `EventStream`).
    mutating func start(_ plan: Plan, for stream: Subscriber, on hub: LoopHub) {
        if topics == nil {
            source = CursorSource(hub: hub, stream: stream)
            for (pattern, _) in plan.starts {
                if plan.cursor != nil || plan.last != nil {
                    hub.resumePattern(stream, pattern: pattern, cursor: plan.cursor, last: plan.last, positions: [:], requestID: nil)
                } else {
                    hub.followCursor(stream, pattern: pattern, requestID: nil)
                }
            }
            return
        }
        for (pattern, from) in plan.starts {
            if let from, let topic = pattern.literal {
                hub.resume(stream, topic: topic, from: from, requestID: nil)
            } else {
                hub.subscribe(stream, to: pattern, requestID: nil)
            }
        }
    }

    /// Records a message queued to the stream; returns its event's id.
    mutating func advance(past stamp: DeliveryStamp) -> String {
        note(stamp.topic, stamp.position)
        return id
    }

    /// A pattern is in: live from `position` (an ack), or its replay is over at `position`.
    mutating func settle(_ pattern: TopicPattern, at position: TopicPosition?) {
        guard let topic = pattern.literal, let position else { return }
        note(topic, position)
    }

    /// The stream is dropped with `lost` unsent: each topic's position goes back to just
    /// before the first message of it that was lost.
    mutating func rewind(before lost: [DeliveryStamp]) {
        if let source {
            // Per owner, everything below its first lost message was queued before it.
            var offsets = source.offsets
            for stamp in lost where stamp.offset > 0 {
                let owner = source.hub.owner(of: stamp.topic)
                offsets[owner] = min(offsets[owner], stamp.offset - 1)
            }
            rewound = offsets
            return
        }
        var first: [TopicName: TopicPosition] = [:]
        for stamp in lost where first[stamp.topic].map({ stamp.position.seq < $0.seq }) ?? true {
            first[stamp.topic] = stamp.position
        }
        for (topic, position) in first where position.seq > 0 {
            positions[topic] = TopicPosition(epoch: position.epoch, seq: position.seq - 1)
        }
    }

    /// Names everything sent so far.
    var id: String {
        if let source {
            let text = Cursor(epoch: source.hub.serverEpoch, offsets: rewound ?? source.offsets).text
            return EventStreamEncoding.isValidID(text.utf8) ? text : Self.liveID
        }
        guard let topics else { return Self.liveID }
        let text = "t:" + topics.map { positions[$0].map { "\($0.epoch):\($0.seq)" } ?? "-" }.joined(separator: ",")
        return EventStreamEncoding.isValidID(text.utf8) ? text : Self.liveID
    }

    /// Per topic, where it stands: positions only move forward within an epoch (an ack may
    /// come after messages above it), and a new epoch replaces the old.
    private mutating func note(_ topic: TopicName, _ position: TopicPosition) {
        if let known = positions[topic], known.epoch == position.epoch, known.seq >= position.seq { return }
        positions[topic] = position
    }

    /// `t:<epoch>:<seq>[,…]` with `count` positions (`-` for unknown); nil when malformed.
    static func parse(_ text: String, topics count: Int) -> [TopicPosition?]? {
        guard EventStreamEncoding.isValidID(text.utf8), text.hasPrefix("t:") else { return nil }
        let parts = text.dropFirst(2).split(separator: ",", omittingEmptySubsequences: false)
        guard parts.count == count else { return nil }
        var positions: [TopicPosition?] = []
        for part in parts {
            if part == "-" { positions.append(nil); continue }
            let fields = part.split(separator: ":", omittingEmptySubsequences: false)
            guard fields.count == 2, !fields[0].isEmpty, fields[0].utf8.count <= 64,
                  fields[1].utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }), let seq = UInt64(fields[1]) else { return nil }
            positions.append(TopicPosition(epoch: String(fields[0]), seq: seq))
        }
        return positions
    }

    /// An id as a message may quote it: printable ASCII, cut to 64 bytes.
    private static func shown(_ text: String) -> String {
        let clean = String(decoding: text.utf8.prefix(64).map { $0 >= 0x20 && $0 < 0x7F ? $0 : UInt8(ascii: "?") }, as: UTF8.self)
        return "'\(clean)'"
    }
}
