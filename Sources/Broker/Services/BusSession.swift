import BusProtocol
import Frames
import Topics

/// A `/bus` connection: its rates and the protocol's side of its replays, on top of what the
/// hub keeps of any subscriber (`Subscriber`). The connection's messages come here
/// (`WebSocketService`) and the hub's answers to its requests too (`HubEndpoint`).
final class BusSession: Subscriber {
    /// The loop's protocol handling and hub, shared by its sessions.
    unowned let service: BusService
    /// How fast this connection may publish, and change its subscriptions.
    var publishes: TokenBucket
    var subscriptionChanges: TokenBucket
    /// Requests refused in the current flood; see `FloodPolicy`.
    var flood = FloodPolicy()
    /// Where a replay that fell behind history stopped: reported with the slow-consumer notice.
    /// Rare, so kept out of line: an empty array is one word, a `DeliveryStamp?` about 100 bytes.
    var replayLoss: DeliveryStamp? {
        get { replayLossStore.first }
        set { replayLossStore = newValue.map { [$0] } ?? [] }
    }
    private var replayLossStore: [DeliveryStamp] = []

    init(connection: Connection, service: BusService, config: ServerConfig, now: UInt64) {
        self.service = service
        publishes = TokenBucket(rate: config.publishRate, burst: config.publishBurst, now: now)
        subscriptionChanges = TokenBucket(rate: config.subscribeRate, burst: config.subscribeBurst, now: now)
        super.init(connection: connection)
    }

    /// A cursor subscription's ack (Protocol.md "Resuming a pattern").
    override func acknowledgeCursor(requestID: [UInt8]?, pattern: TopicPattern, cursor: String, recovered: Bool?, lost: [LostTopic]) {
        guard connection.isOpen else { return }
        let lost = lost.map { (topic: $0.topic.string, earliest: $0.earliest.map { (epoch: $0.epoch, seq: $0.seq) }) }
        let ack = ServerEnvelope.cursorAck(id: requestID, topic: pattern.string, cursor: cursor, recovered: recovered, lost: lost)
        connection.enqueue(WireFrame.make(opcode: .text, payload: ack))
    }

    override func checkpoint(pattern: TopicPattern, cursor: String) {
        guard connection.isOpen else { return }
        connection.enqueue(service.checkpointFrame(pattern: pattern, cursor: cursor))
    }

    /// The error envelope before a 4008 close stays small whatever the client subscribed to.
    static let maxReportedPositions = 100
}

extension BusSession: WebSocketService {
    func received(_ opcode: Opcode, _ payload: UnsafeRawBufferPointer, on connection: Connection) {
        service.received(opcode, payload, session: self, connection: connection)
    }

    func closed(_ connection: Connection) { service.hub.remove(self) }

    /// The queue drained: the replay in progress sends its next page.
    func drained(_ connection: Connection) {
        service.hub.pageWritten(by: self)
    }

    /// Per topic, the last position the client was sent: the first one of each topic it will
    /// not get, less one (Protocol.md, slow consumers).
    func slowConsumerNotice(on connection: Connection, cause: String, overflowing frame: OutboundBytes?) -> OutboundBytes? {
        var firstLost: [String: DeliveryStamp] = [:]
        var order: [String] = []
        func note(_ stamp: DeliveryStamp?) {
            guard let stamp else { return }
            if let known = firstLost[stamp.topic.string], known.position.seq <= stamp.position.seq { return }
            if firstLost[stamp.topic.string] == nil { order.append(stamp.topic.string) }
            firstLost[stamp.topic.string] = stamp
        }
        connection.forEachUnstartedFrame { note($0.stamp) }
        note(frame?.stamp)
        note(replayLoss)
        let positions = order.prefix(Self.maxReportedPositions).map { topic in
            let stamp = firstLost[topic]!
            return (topic: topic, epoch: stamp.position.epoch, seq: stamp.position.seq - 1)
        }
        let message = "\(cause) (\(connection.queuedMessages) messages, \(connection.queuedBytes) bytes queued)"
        return WireFrame.make(opcode: .text, payload: ServerEnvelope.slowConsumer(message: message, positions: positions))
    }
}

extension BusSession: HubEndpoint {
    func subscribed(requestID: [UInt8]?, pattern: TopicPattern, position: TopicPosition?) {
        guard connection.isOpen else { return }
        connection.enqueue(WireFrame.make(AckEnvelope(id: requestID, op: "subscribe", topic: pattern.string,
                                                      epoch: position?.epoch, seq: position?.seq)))
    }

    func published(requestID: [UInt8]?, outcome: PublishOutcome) {
        guard connection.isOpen, let requestID else { return }
        connection.enqueue(WireFrame.make(AckEnvelope(id: requestID, op: "publish", topic: outcome.topic.string,
                                                      epoch: outcome.position.epoch, seq: outcome.position.seq,
                                                      subscribers: outcome.subscribers)))
    }

    /// A resume's page: the ack first (the topic's position when the replay was cut, whether
    /// everything after the requested position is coming, the oldest position history holds),
    /// then the frames; then live, or the next page once the queue has drained.
    func received(_ page: ReplayPage, of replay: ReplayProgress) -> Bool {
        guard connection.isOpen else { return false }
        if replay.first {
            let ack = ServerEnvelope.ack(id: replay.requestID, op: "subscribe", topic: replay.topic.string, epoch: page.position.epoch,
                                         seq: page.position.seq, recovered: page.recovered,
                                         earliest: page.earliest.map { ($0.epoch, $0.seq) })
            connection.enqueue(WireFrame.make(opcode: .text, payload: ack))
        } else if !page.recovered, let next = replay.next {
            // History moved past the replay while the subscriber was reading: it fell behind.
            replayLoss = DeliveryStamp(topic: replay.topic, position: TopicPosition(epoch: next.epoch, seq: next.seq),
                                       kind: .json, payload: 0..<0, arrival: 0)
            connection.dropSlowConsumer(overflowing: nil, cause: "replay fell behind history")
            return false
        }
        for frame in page.frames {
            connection.deliver(frame)
            guard connection.isOpen else { return false }
        }
        if page.done {
            setFloor(page.position.seq, for: replay.topic)
            return false
        }
        return true
    }
}
