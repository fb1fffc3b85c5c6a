import BusProtocol
import Frames
import Topics

/// `POST /publish/<topic>` (Protocol.md "HTTP publish"): the body, read whole within the
/// payload limit, published like a `/bus` publish; the answer waits for the topic's owner.
/// The content type decides the kind: JSON as it is, text (`text/plain`, and the
/// form-encoded type curl sends by default) as a JSON string, anything else as binary.
final class PublishEndpoint: HTTPEndpoint {
    static let prefix = "/publish/"
    private let config: ServerConfig
    private let hub: LoopHub

    init(config: ServerConfig, hub: LoopHub) {
        self.config = config
        self.hub = hub
    }

    var isGuarded: Bool { true }

    func serve(_ request: HTTPRequest, on connection: Connection) {
        guard request.method == "POST" else {
            return connection.replyAndClose(Self.jsonError(.methodNotAllowed, "method_not_allowed", "use POST", headers: [("Allow", "POST")]))
        }
        switch HTTPBodyDecoder.framing(for: request, maxBodySize: config.maxPayload) {
        case .failure(let error):
            connection.replyAndClose(Self.jsonError(error.status, error.status == .payloadTooLarge ? .payloadTooLarge : .badRequest,
                                                    error.message))
        case .success(let framing):
            connection.readBody(of: request, framing: framing, maxBodySize: config.maxPayload)
        }
    }

    func received(body: [UInt8], of request: HTTPRequest, on connection: Connection) {
        let name = PercentDecoding.decode(request.path.utf8.dropFirst(Self.prefix.utf8.count))
        let topic: TopicName
        do { topic = try TopicName(validating: name, limits: config.topicLimits) } catch {
            return connection.reply(Self.jsonError(.badRequest, .invalidTopic, error.message), to: request)
        }
        if let grant = connection.grant, !grant.allowsPublish(to: topic) {
            connection.permissionDenied("publish", topic.string)
            return connection.reply(Self.jsonError(.forbidden, .forbidden, "this token may not publish to \(topic.string)"), to: request)
        }
        let contentType = (request.headers["Content-Type"] ?? "").lowercased()
        var kind = PayloadKind.binary
        var payload = body
        if contentType.hasPrefix("application/json") {
            guard body.withUnsafeBytes({ JSON.validateValue($0) }) else {
                return connection.reply(Self.jsonError(.badRequest, .badJSON, "the body is not one JSON value"), to: request)
            }
            kind = .json
        } else if contentType.hasPrefix("text/plain") || contentType.hasPrefix("application/x-www-form-urlencoded") {
            // Form-encoded is what `curl -d` sends by default: the body is published as the
            // text it is, never form-decoded.
            guard let text = String(validating: body, as: UTF8.self) else {
                return connection.reply(Self.jsonError(.badRequest, .badRequest,
                                                       "a text body must be UTF-8; send bytes as application/octet-stream"), to: request)
            }
            payload = Array(JSONText.quoted(text).utf8)
            kind = .json
            guard payload.count <= config.maxPayload else {
                return connection.reply(Self.jsonError(.payloadTooLarge, .payloadTooLarge, "the text, quoted as JSON, exceeds max_payload"),
                                        to: request)
            }
        }
        connection.awaitReply(to: request, from: PendingPublish(connection: connection))
        let origin = PublishOrigin(loop: hub.index, connection: connection.id, requestID: nil, wantsOutcome: true,
                                   arrival: connection.loop.now)
        payload.withUnsafeBytes { hub.publish(topic: topic, kind: kind, payload: $0, origin: origin) }
    }
}

/// The owner sequenced the publish: answer, then go on with any pipelined request.
private final class PendingPublish: HubEndpoint {
    unowned let connection: Connection

    init(connection: Connection) { self.connection = connection }

    func published(requestID: [UInt8]?, outcome: PublishOutcome) {
        let body = HTTPBody.published(topic: outcome.topic.string, epoch: outcome.position.epoch, seq: outcome.position.seq,
                                      subscribers: outcome.subscribers)
        connection.completeReply(OutboundBytes.copying(HTTPResponseHead.simple(.ok, bytes: body, contentType: "application/json",
                                                                               keepAlive: true)))
    }
}
