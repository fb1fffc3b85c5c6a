import BusProtocol
import Topics

/// One `GET /sse/…` stream: the hub's subscriber (it delivers each message as an event) and
/// the endpoint the hub answers (acks, replay pages). What its ids say is the seam's
/// (`EventStreamPosition`); the connection's side is `Connection+EventStream`.
final class EventStream: Subscriber {
    unowned let hub: LoopHub
    private(set) var position: EventStreamPosition
    private let plan: EventStreamPosition.Plan
    /// Patterns not yet in (acked, or replayed to their end).
    private var waiting: Int
    /// Of a resume: topics whose recovery was not complete.
    private var unrecovered: [String] = []
    /// The replay in progress that fell behind history (reported like a slow consumer).
    private var replayLoss: DeliveryStamp?

    init(connection: Connection, hub: LoopHub, patterns: [TopicPattern], request: EventStreamPosition.Request) {
        self.hub = hub
        var position = EventStreamPosition(patterns: patterns)
        plan = position.plan(for: request)
        self.position = position
        waiting = plan.starts.count
        super.init(connection: connection)
    }

    /// Its acks settle `position`, which `start` is changing while it subscribes: they come later.
    override var takesAckDuringRequest: Bool { false }

    /// Subscribes as the plan says. A position that cannot be used is answered at once.
    func start() {
        if let refused = plan.refused {
            connection.enqueueStreamBytes(EventStreamEncoding.event("recovered", id: nil, data: Self.recovered(false, refused, [])))
        }
        position.start(plan, for: self, on: hub)
    }

    /// A message, as an event: the shared data lines, then this stream's id.
    override func deliver(_ frame: OutboundBytes) -> Bool {
        guard let stamp = frame.stamp else { return false }
        let data = frame.encoding(EventStreamEncoding.key) {
            let lines = EventStreamEncoding.dataLines(of: frame)
            hub.chargeEncoding(of: frame, bytes: lines.count)
            return lines
        }
        let id = position.advance(past: stamp)
        return connection.enqueueEvent(data, tail: EventStreamEncoding.tail(id: id))
    }

    /// Every pattern is in: the `recovered` event of a resume, and an empty event whose id
    /// names where the stream stands (the browser's Last-Event-ID is current from here on).
    private func settled() {
        waiting -= 1
        guard waiting == 0 else { return }
        if plan.resuming && plan.refused == nil {
            let message = unrecovered.isEmpty ? "every message since the position follows" : "history no longer held every message"
            connection.enqueueStreamBytes(EventStreamEncoding.event("recovered", id: nil,
                                                                    data: Self.recovered(unrecovered.isEmpty, message, unrecovered)))
        }
        connection.enqueueStreamBytes(Array("id: \(position.id)\n\n".utf8))
    }

    /// A cursor stream's pattern is in (its ack; a resume's replay follows).
    override func acknowledgeCursor(requestID: [UInt8]?, pattern: TopicPattern, cursor: String, recovered: Bool?, lost: [LostTopic]) {
        guard connection.phase == .streaming else { return }
        if recovered == false { unrecovered += lost.isEmpty ? [pattern.string] : lost.map(\.topic.string) }
        settled()
    }

    func heartbeat() -> [UInt8] { Array("id: \(position.id)\n\n".utf8) }

    func tokenExpiredEvent() -> [UInt8] {
        EventStreamEncoding.event("token_expired", id: position.id,
                                  data: ServerEnvelope.error(.unauthorized, message: "the token expired: reconnect with a new one"))
    }

    /// The `slow_consumer` event: per topic, the last position sent (as on `/bus`), and as its
    /// id the position to resume from. `completing`: an event was partly written when the
    /// stream was dropped; its id tail goes first, so it ends before this one begins.
    func slowConsumerEvent(lost: [DeliveryStamp], completing: Bool, message: String) -> [UInt8] {
        var lost = lost
        if let replayLoss { lost.append(replayLoss) }
        position.rewind(before: lost)
        var firstLost: [String: DeliveryStamp] = [:]
        var order: [String] = []
        for stamp in lost {
            if let known = firstLost[stamp.topic.string], known.position.seq <= stamp.position.seq { continue }
            if firstLost[stamp.topic.string] == nil { order.append(stamp.topic.string) }
            firstLost[stamp.topic.string] = stamp
        }
        let positions = order.prefix(BusSession.maxReportedPositions).map { topic in
            let stamp = firstLost[topic]!
            return (topic: topic, epoch: stamp.position.epoch, seq: stamp.position.seq - 1)
        }
        let id = position.id
        let event = EventStreamEncoding.event("slow_consumer", id: id,
                                              data: ServerEnvelope.slowConsumer(message: message, positions: positions))
        return completing ? Array("id: \(id)\n\n".utf8) + event : event
    }

    /// The queue drained: the next replay page in line is asked for.
    func drained() { hub.pageWritten(by: self) }

    func closed() { hub.remove(self) }

    /// `{"recovered":bool,"message":…,"topics":[…]}`: the topics are those not recovered.
    static func recovered(_ recovered: Bool, _ message: String, _ topics: [String]) -> [UInt8] {
        var text = "{\"recovered\":\(recovered),\"message\":\(JSONText.quoted(message))"
        if !topics.isEmpty { text += ",\"topics\":[" + topics.map { JSONText.quoted($0) }.joined(separator: ",") + "]" }
        return Array((text + "}").utf8)
    }
}

extension EventStream: HubEndpoint {
    func subscribed(requestID: [UInt8]?, pattern: TopicPattern, position: TopicPosition?) {
        guard connection.phase == .streaming else { return }
        self.position.settle(pattern, at: position)
        settled()
    }

    /// A resumed topic's page: its frames as events; then live (or the next page once the
    /// queue has drained), as a `/bus` resume.
    func received(_ page: ReplayPage, of replay: ReplayProgress) -> Bool {
        guard connection.phase == .streaming else { return false }
        if replay.first {
            if !page.recovered { unrecovered.append(replay.topic.string) }
        } else if !page.recovered, let next = replay.next {
            replayLoss = DeliveryStamp(topic: replay.topic, position: TopicPosition(epoch: next.epoch, seq: next.seq),
                                       kind: .json, payload: 0..<0, arrival: 0)
            connection.dropSlowEventStream(overflowing: nil, cause: "replay fell behind history")
            return false
        }
        for frame in page.frames {
            guard deliver(frame) else { return false }
        }
        if page.done {
            setFloor(page.position.seq, for: replay.topic)
            position.settle(TopicPattern(replay.topic), at: page.position)
            settled()
            return false
        }
        return true
    }
}
