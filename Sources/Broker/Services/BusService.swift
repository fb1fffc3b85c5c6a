import Auth
import BusProtocol
import Frames
import Topics

/// `/bus`: the pub/sub protocol of Protocol.md on one loop. Parses each request envelope in
/// place (the payload is never decoded, only validated and passed through), checks it, and
/// hands it to the loop's hub. Each connection's state is its `BusSession`.
final class BusService: WebSocketEndpoint {
    static let subprotocol = "bus.v1"
    let hub: LoopHub
    private let config: ServerConfig
    private let limits: TopicLimits
    /// Identical for every client of this server: built once.
    private let welcome: OutboundBytes
    /// The checkpoint frame last made per pattern: every live subscriber of a pattern on this
    /// loop gets the same one in a turn (see `LoopHub.sendCheckpoints`). Bounded.
    private var checkpointFrames: [TopicPattern: (cursor: String, frame: OutboundBytes)] = [:]

    init(hub: LoopHub, config: ServerConfig) {
        self.hub = hub
        self.config = config
        limits = config.topicLimits
        welcome = WireFrame.make(opcode: .text, payload: ServerEnvelope.welcome(
            maxMessageSize: config.maxMessageSize, maxPayload: config.maxPayload,
            maxSubscriptions: config.maxSubscriptions, maxTopicLength: config.maxTopicLength,
            maxTopicDepth: config.maxTopicDepth, sendQueueMessages: config.sendQueueMessages,
            sendQueueBytes: config.effectiveSendQueueBytes, pingInterval: Int(config.pingInterval),
            idleTimeout: Int(config.idleTimeout)))
    }

    /// No offer means v1; an offer must include `bus.v1`.
    func negotiate(_ offered: [String]) throws(HandshakeError) -> String? {
        if offered.isEmpty { return nil }
        if offered.contains(Self.subprotocol) { return Self.subprotocol }
        throw HandshakeError(status: .badRequest, message: "unsupported subprotocol: this server speaks \(Self.subprotocol)")
    }

    func open(_ connection: Connection) -> WebSocketService {
        let session = BusSession(connection: connection, service: self, config: config, now: connection.loop.now)
        connection.endpoint = session
        connection.enqueue(welcome)
        return session
    }

    /// `connection` is the session's, passed along by the caller that has it: each read of
    /// the session's `unowned` reference is a retain and a release.
    func received(_ opcode: Opcode, _ payload: UnsafeRawBufferPointer, session: BusSession, connection: Connection) {
        if opcode == .binary {
            receivedBinary(payload, session: session, connection: connection)
            return
        }
        switch EnvelopeParser.parse(payload) {
        case .failure(let error):
            sendError(error.code, error.message, id: error.id.map { Array(payload[$0]) }, topic: error.topic, to: session)
        case .success(let request):
            // Copied from a rebased buffer: a slice went through the generic collection copy.
            let id = request.id.map { Array(UnsafeRawBufferPointer(rebasing: payload[$0])) }
            guard withinRate(session, publishing: request.kind == .publish, id: id, topic: request.topic) else { return }
            switch request.kind {
            case .subscribe: subscribe(session, request.topic, resume: request.resume, checkpoints: request.checkpoints, id: id)
            case .unsubscribe: unsubscribe(session, request.topic, id: id)
            case .publish:
                guard let topic = publishTopic(request.topic, id: id, session: session) else { return }
                let data = UnsafeRawBufferPointer(rebasing: payload[request.data!])
                publish(topic, .json, data, id: id, session: session)
            }
        }
    }

    private func receivedBinary(_ payload: UnsafeRawBufferPointer, session: BusSession, connection: Connection) {
        switch BinaryLayout.parsePublish(payload) {
        case .failure(let error):
            sendError(error.code, error.message, id: nil, topic: nil, to: session)
        case .success(let publish):
            guard withinRate(session, publishing: true, id: nil, topic: nil) else { return }
            let id = publish.id.map { Array(JSONText.quoted(String(decoding: payload[$0], as: UTF8.self)).utf8) }
            let name = UnsafeRawBufferPointer(rebasing: payload[publish.topic])
            guard let topic = publishTopic(bytes: name, id: id, session: session, grant: connection.grant) else { return }
            let data = UnsafeRawBufferPointer(rebasing: payload[publish.payload])
            guard fits(data, topic: String(decoding: topic.bytes, as: UTF8.self), id: id, session: session) else { return }
            hub.publish(topic: topic, kind: .binary, payload: data, origin: origin(of: connection, id: id))
        }
    }

    /// Takes a token for the request, or refuses it (see `FloodPolicy`).
    private func withinRate(_ session: BusSession, publishing: Bool, id: [UInt8]?, topic: String?) -> Bool {
        let now = hub.loop.now  // the connection's loop: this service serves one loop
        let allowed = publishing ? session.publishes.take(now: now) : session.subscriptionChanges.take(now: now)
        if allowed { return true }
        session.connection.loop.metrics.rateLimited &+= 1
        let limit = publishing ? "publishes" : "subscribes and unsubscribes"
        sendError(.rateLimited, "too many \(limit) per second: slow down", id: id, topic: topic, to: session)
        return false
    }

    private func subscribe(_ session: BusSession, _ text: String, resume: ClientRequest.Resume?, checkpoints: Bool, id: [UInt8]?) {
        let connection = session.connection
        let pattern: TopicPattern
        do { pattern = try TopicPattern(text, limits: limits) } catch {
            return sendError(.invalidTopic, error.message, id: id, topic: text, to: session)
        }
        if let grant = connection.grant, !grant.allowsSubscribe(to: pattern) {
            connection.permissionDenied("subscribe", text)
            return sendError(.forbidden, "this token may not subscribe to \(text)", id: id, topic: text, to: session)
        }
        if !session.patterns.contains(pattern) && session.patterns.count >= config.maxSubscriptions {
            return sendError(.tooManySubscriptions, "at most \(config.maxSubscriptions) subscriptions per connection",
                             id: id, topic: text, to: session)
        }
        guard let resume else { return hub.subscribe(session, to: pattern, requestID: id, checkpoints: checkpoints) }
        switch (resume, pattern.literal) {
        case (.since(let epoch, let seq), let topic?):
            hub.resume(session, topic: topic, from: .since(epoch: epoch, seq: seq), requestID: id)
        case (.since, nil):
            sendError(.resumeRequiresTopic, "a pattern resumes from a cursor (\"since\":{\"cursor\":…}), not a topic position",
                      id: id, topic: text, to: session)
        case (.last(let count), let topic?) where !checkpoints:
            hub.resume(session, topic: topic, from: .last(count), requestID: id)
        case (.last(let count), _):
            hub.resumePattern(session, pattern: pattern, cursor: nil, last: count, positions: [:], requestID: id)
        case (.cursor(let cursor, let positions), _):
            var held: [TopicName: TopicPosition] = [:]
            for position in positions {
                // Only the pattern's own topics count; each through the one validator.
                guard let topic = try? TopicName(position.topic, limits: limits) else {
                    return sendError(.invalidTopic, "positions: \(JSONText.quoted(position.topic)) is not a valid topic",
                                     id: id, topic: text, to: session)
                }
                if pattern.matches(topic) { held[topic] = TopicPosition(epoch: position.epoch, seq: position.seq) }
            }
            hub.resumePattern(session, pattern: pattern, cursor: cursor, last: nil, positions: held, requestID: id)
        }
    }

    private func unsubscribe(_ session: BusSession, _ text: String, id: [UInt8]?) {
        let connection = session.connection
        let pattern: TopicPattern
        do { pattern = try TopicPattern(text, limits: limits) } catch {
            return sendError(.invalidTopic, error.message, id: id, topic: text, to: session)
        }
        guard hub.unsubscribe(session, from: pattern) else {
            return sendError(.notSubscribed, "this connection is not subscribed to that pattern", id: id, topic: text, to: session)
        }
        connection.enqueue(WireFrame.make(AckEnvelope(id: id, op: "unsubscribe", topic: text)))
    }

    private func publishTopic(_ text: String, id: [UInt8]?, session: BusSession) -> TopicName? {
        do { return allowedToPublish(try TopicName(text, limits: limits), id: id, session: session) } catch {
            refuseTopic(error, text: text, id: id, session: session)
            return nil
        }
    }

    /// The topic as it came in a binary frame, validated as bytes (malformed UTF-8 is refused,
    /// never repaired) where they lie: a string is made only for an error's message, for a
    /// token's grant to judge, or by the hub when the topic's state does not hold one yet.
    private func publishTopic(bytes: UnsafeRawBufferPointer, id: [UInt8]?, session: BusSession, grant: Grant?) -> TopicBytes? {
        let topic: TopicBytes
        do { topic = try TopicBytes(validating: bytes, limits: limits) } catch {
            refuseTopic(error, text: String(decoding: bytes, as: UTF8.self), id: id, session: session)
            return nil
        }
        guard grant == nil || allowedToPublish(topic.name, id: id, session: session) != nil else { return nil }
        return topic
    }

    private func refuseTopic(_ error: TopicError, text: String, id: [UInt8]?, session: BusSession) {
        let message = error == .wildcardInTopic ? "publish needs a topic, not a pattern" : error.message
        sendError(.invalidTopic, message, id: id, topic: error == .invalidUTF8 ? nil : text, to: session)
    }

    private func allowedToPublish(_ topic: TopicName, id: [UInt8]?, session: BusSession) -> TopicName? {
        let connection = session.connection
        guard let grant = connection.grant, !grant.allowsPublish(to: topic) else { return topic }
        connection.permissionDenied("publish", topic.string)
        sendError(.forbidden, "this token may not publish to \(topic.string)", id: id, topic: topic.string, to: session)
        return nil
    }

    private func publish(_ topic: TopicName, _ kind: PayloadKind, _ data: UnsafeRawBufferPointer, id: [UInt8]?, session: BusSession) {
        guard fits(data, topic: topic.string, id: id, session: session) else { return }
        hub.publish(topic: topic, kind: kind, payload: data, origin: origin(of: session.connection, id: id))
    }

    /// Whether the payload is within `max_payload`; if not, the publish is refused.
    private func fits(_ data: UnsafeRawBufferPointer, topic: @autoclosure () -> String, id: [UInt8]?, session: BusSession) -> Bool {
        guard data.count > config.maxPayload else { return true }
        sendError(.payloadTooLarge, "payload of \(data.count) bytes exceeds max_payload \(config.maxPayload)",
                  id: id, topic: topic(), to: session)
        return false
    }

    /// Where a publish on `connection` comes from, for the owner's answer; marks the
    /// connection as a publisher.
    private func origin(of connection: Connection, id: [UInt8]?) -> PublishOrigin {
        connection.publishes = true
        return PublishOrigin(loop: hub.index, connection: connection.id, requestID: id, wantsOutcome: false, arrival: hub.loop.now)
    }

    // MARK: replies

    func checkpointFrame(pattern: TopicPattern, cursor: String) -> OutboundBytes {
        if let known = checkpointFrames[pattern], known.cursor == cursor { return known.frame }
        let frame = WireFrame.make(opcode: .text, payload: ServerEnvelope.checkpoint(topic: pattern.string, cursor: cursor))
        if checkpointFrames.count >= 1024 { checkpointFrames = [:] }
        checkpointFrames[pattern] = (cursor, frame)
        return frame
    }

    /// Refuses a request with an error envelope, unless the connection has had too many
    /// refused in a row (see `FloodPolicy`): then it is closed with 1008, so a client sending
    /// garbage or going over its rate cannot make the server write errors without end.
    private func sendError(_ code: ErrorCode, _ message: String, id: [UInt8]?, topic: String?, to session: BusSession) {
        let connection = session.connection
        if session.flood.refused(now: connection.loop.now) == .close {
            connection.loop.metrics.floodCloses &+= 1
            connection.close(code == .rateLimited ? .rateLimitExceeded : .tooManyRefusedRequests)
            return
        }
        connection.enqueue(WireFrame.make(opcode: .text, payload: ServerEnvelope.error(code, message: message, id: id, topic: topic)))
    }
}
