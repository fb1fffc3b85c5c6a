import BusProtocol
import Frames
import Topics

/// `GET /history/<topic>` (Protocol.md "HTTP history"): a page of the topic's retained
/// messages from its owner loop, at most a quarter of a send queue of them.
final class HistoryEndpoint: HTTPEndpoint {
    static let prefix = "/history/"
    /// Most messages one answer carries.
    static let maxLimit = 1000
    private let config: ServerConfig
    private let hub: LoopHub

    init(config: ServerConfig, hub: LoopHub) {
        self.config = config
        self.hub = hub
    }

    var isGuarded: Bool { true }

    func serve(_ request: HTTPRequest, on connection: Connection) {
        if refusedUnlessPlainGet(request, on: connection) { return }
        let name = PercentDecoding.decode(request.path.utf8.dropFirst(Self.prefix.utf8.count))
        let topic: TopicName
        do { topic = try TopicName(validating: name, limits: config.topicLimits) } catch {
            return connection.reply(Self.jsonError(.badRequest, error == .wildcardInTopic ? .resumeRequiresTopic : .invalidTopic,
                                                   error.message), to: request)
        }
        if let grant = connection.grant, !grant.allowsSubscribe(to: TopicPattern(topic)) {
            connection.permissionDenied("history", topic.string)
            return connection.reply(Self.jsonError(.forbidden, .forbidden, "this token may not read \(topic.string)"), to: request)
        }
        var limit = 100
        if let text = request.queryItem("limit") {
            guard let value = DecimalNumber.saturating(text) else {
                return connection.reply(Self.jsonError(.badRequest, .badRequest, "limit must be a whole number"), to: request)
            }
            limit = Int(min(value, UInt64(Self.maxLimit)))
        }
        var start = ReplayStart.last(limit)
        if let since = request.queryItem("since") {
            guard let seq = DecimalNumber.unsigned(since), let epoch = request.queryItem("epoch") else {
                return connection.reply(Self.jsonError(.badRequest, .badRequest, "since needs a whole number and an epoch"), to: request)
            }
            start = .since(epoch: epoch, seq: seq)
        }
        connection.awaitReply(to: request, from: PendingHistory(connection: connection))
        // A quarter of the send queue of raw frames: base64 and the JSON around them stay
        // within half of it, so one answer never overflows the queue (`more` says to page).
        hub.history(for: connection.id, topic: topic, from: start, limit: limit, maxBytes: config.effectiveSendQueueBytes / 4)
    }
}

/// The owner's page answers the request.
private final class PendingHistory: HubEndpoint {
    unowned let connection: Connection

    init(connection: Connection) { self.connection = connection }

    func received(_ page: ReplayPage, of replay: ReplayProgress) -> Bool {
        connection.completeReply(HistoryResponse.make(page, topic: replay.topic))
        return false
    }
}
