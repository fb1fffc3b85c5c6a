import Auth
import BusProtocol
import Frames
import Topics

extension Connection {
    /// Feeds bytes to the request-head parser, or to the body decoder of a request in
    /// progress. Returns how many bytes were used when a head or body completed (the rest are
    /// frames or the next request), or nil when everything was consumed.
    func consumeHTTP(_ bytes: UnsafeRawBufferPointer) -> Int? {
        if http.body != nil { return consumeBody(bytes) }
        guard var parser = httpParser else { return nil }
        httpParser = nil
        switch parser.parse(bytes) {
        case .needMore:
            httpParser = parser
            return nil
        case .failure(let status, let message):
            replyAndClose(HTTPResponseHead.simple(status, body: message + "\n"))
            log.debug("bad HTTP request", peerFields + [("status", String(status.code))])
            return nil
        case .complete(let request, let consumed):
            handle(request)
            return consumed
        }
    }

    /// Behind a trusted proxy: learns the client's address from the request and counts the
    /// connection under it (once, on the first request). False when that address is over its
    /// per-address limit: the request is refused with 429.
    private func identifyClient(behindProxy request: HTTPRequest) -> Bool {
        let forwarded = request.headers.values("X-Forwarded-For")
        clientAddress = loop.context.proxies.clientAddress(peer: peer.host,
                                                           forwardedFor: forwarded.isEmpty ? nil : forwarded.joined(separator: ","))
        guard loop.context.peers.isActive, countedAddress == nil else { return true }
        guard loop.context.peers.admit(clientAddress, now: loop.now) else {
            log.debug("request refused", peerFields + [("client", clientAddress),
                                          ("reason", "too many connections from this address")])
            replyAndClose(HTTPResponses.tooManyRequests)
            return false
        }
        countedAddress = clientAddress
        return true
    }

    private func handle(_ request: HTTPRequest) {
        // RFC 9112 §3.2: an HTTP/1.1 request without exactly one Host is a 400 on every path.
        // Checked first: the origin policy would read a missing Host as a foreign one (403).
        if request.version >= .http1_1 && request.headers.values("Host").count != 1 {
            return replyAndClose(HTTPResponseHead.simple(.badRequest, body: "an HTTP/1.1 request needs exactly one Host header\n"))
        }
        if loop.context.proxies.trusts(peer.host) && !identifyClient(behindProxy: request) { return }
        let route = loop.router.route(request)
        let history = request.path.hasPrefix(Self.historyPrefix) && !Self.hasBody(request)
        var guarded = history
        switch route {
        case .webSocket, .publish: guarded = true
        default: break
        }
        if guarded, case .refuse(let why) = loop.context.originPolicy.check(
            origin: request.headers["Origin"], host: request.headers["Host"], loopbackListener: loop.context.loopbackOnly) {
            log.info("request refused by origin policy", peerFields + [("origin", request.headers["Origin"] ?? ""),
                                                          ("host", request.headers["Host"] ?? ""), ("path", request.path)])
            if case .webSocket = route {
                return replyAndClose(HTTPResponseHead.simple(.forbidden, body: why + "\n"))
            }
            return replyAndClose(Self.jsonError(.forbidden, ErrorCode.forbidden.rawValue, why))
        }
        if guarded {
            var isWebSocket = false
            if case .webSocket = route { isWebSocket = true }
            guard authenticate(request, webSocket: isWebSocket) else { return }
        }
        if history { return beginHistory(request) }
        switch route {
        case .webSocket(let service):
            upgrade(request, to: service)
        case .publish:
            beginPublish(request)
        case .metrics(let head):
            serveMetrics(request, head: head)
        case .reply(let reply):
            enqueue(reply.shared ?? OutboundBytes.copying(reply.bytes))
            if reply.keepAlive && Self.wantsKeepAlive(request) && !Self.hasBody(request) {
                expectNextRequest()
            } else {
                closeAfterFlush()
            }
        }
    }

    /// Holds this connection's further input (pipelined requests wait in the socket, not in
    /// memory) until `completeDeferredReply` answers `request` with what other loops sent.
    private func awaitDeferredReply(to request: HTTPRequest) {
        http.request = request
        http.awaitingOutcome = true
        endpoint = PendingHTTPReply(connection: self)
        pause(.awaitingReply)
    }

    private func completeDeferredReply(_ response: [UInt8]) {
        completeDeferredReply(OutboundBytes.copying(response))
    }

    private func completeDeferredReply(_ response: OutboundBytes) {
        guard http.awaitingOutcome, let request = http.request else { return }
        http.awaitingOutcome = false
        endpoint = nil
        resume(.awaitingReply)
        replyAndContinue(response, request)
    }

    // MARK: GET /metrics

    private func serveMetrics(_ request: HTTPRequest, head: Bool) {
        guard !Self.hasBody(request) else {
            return replyAndClose(HTTPResponseHead.simple(.badRequest, body: "a GET has no body\n"))
        }
        awaitDeferredReply(to: request)
        let id = self.id
        loop.gatherSnapshots { [unowned loop] snapshots in
            guard let connection = loop.connection(id) else { return }
            let text = MetricsExposition.render(snapshots) + MetricsExposition.render(backplane: loop.context.backplane)
            connection.completeDeferredReply(Router.response(.ok, text, contentType: MetricsExposition.contentType, head: head))
        }
    }

    private func expectNextRequest() {
        httpParser = HTTPRequestParser(maxHeadSize: config.maxHandshakeSize)
        restartHandshakeDeadline()
    }

    private func upgrade(_ request: HTTPRequest, to service: WebSocketEndpoint) {
        do throws(HandshakeError) {
            let upgrade = try ServerHandshake.validate(request)
            let subprotocol = try service.negotiate(upgrade.offeredSubprotocols)
            enqueue(OutboundBytes.copying(ServerHandshake.response(key: upgrade.key, subprotocol: subprotocol)))
            becomeOpen(service, subprotocol: subprotocol)
        } catch {
            replyAndClose(error.response())
            log.debug("handshake refused", peerFields + [("status", String(error.status.code)),
                                            ("reason", error.message)])
        }
    }

    func replyAndClose(_ bytes: [UInt8]) {
        enqueue(OutboundBytes.copying(bytes))
        closeAfterFlush()
    }

    // MARK: POST /publish/<topic>

    static let publishPrefix = "/publish/"

    private func beginPublish(_ request: HTTPRequest) {
        http.request = request
        guard request.method == "POST" else {
            return replyAndClose(Self.jsonError(.methodNotAllowed, "method_not_allowed", "use POST", headers: [("Allow", "POST")]))
        }
        switch HTTPBodyDecoder.framing(for: request, maxBodySize: config.maxPayload) {
        case .failure(let error):
            let code = error.status == .payloadTooLarge ? ErrorCode.payloadTooLarge.rawValue : ErrorCode.badRequest.rawValue
            replyAndClose(Self.jsonError(error.status, code, error.message))
        case .success(let framing):
            if request.headers.containsToken("100-continue", in: "Expect") {
                enqueue(Self.continueResponse)
            }
            http.body = HTTPBodyDecoder(framing: framing, maxBodySize: config.maxPayload)
            if framing == .none { _ = consumeBody(UnsafeRawBufferPointer(start: nil, count: 0)) }
        }
    }

    private func consumeBody(_ bytes: UnsafeRawBufferPointer) -> Int? {
        guard var decoder = http.body, let request = http.request else { return nil }
        http.body = nil
        switch decoder.decode(bytes) {
        case .needMore:
            http.body = decoder
            return nil
        case .failure(let status, let message):
            let code = status == .payloadTooLarge ? ErrorCode.payloadTooLarge : ErrorCode.badRequest
            replyAndClose(Self.jsonError(status, code.rawValue, message))
            return nil
        case .complete(let body, let consumed):
            publish(body, for: request)
            return consumed
        }
    }

    private func publish(_ body: [UInt8], for request: HTTPRequest) {
        let name = PercentDecoding.decode(request.path.utf8.dropFirst(Self.publishPrefix.utf8.count))
        let topic: TopicName
        do { topic = try TopicName(validating: name, limits: config.topicLimits) } catch {
            return replyAndContinue(Self.jsonError(.badRequest, ErrorCode.invalidTopic.rawValue, error.message), request)
        }
        if let grant, !grant.allowsPublish(to: topic) {
            permissionDenied("publish", topic.string)
            return replyAndContinue(Self.jsonError(.forbidden, ErrorCode.forbidden.rawValue,
                                                   "this token may not publish to \(topic.string)"), request)
        }
        let contentType = (request.headers["Content-Type"] ?? "").lowercased()
        var kind = PayloadKind.binary
        var payload = body
        if contentType.hasPrefix("application/json") {
            guard body.withUnsafeBytes({ JSON.validateValue($0) }) else {
                return replyAndContinue(Self.jsonError(.badRequest, ErrorCode.badJSON.rawValue, "the body is not one JSON value"), request)
            }
            kind = .json
        } else if contentType.hasPrefix("text/plain") {
            guard let text = String(validating: body, as: UTF8.self) else {
                return replyAndContinue(Self.jsonError(.badRequest, ErrorCode.badRequest.rawValue, "a text/plain body must be UTF-8"), request)
            }
            payload = Array(JSONText.quoted(text).utf8)
            kind = .json
            guard payload.count <= config.maxPayload else {
                return replyAndContinue(Self.jsonError(.payloadTooLarge, ErrorCode.payloadTooLarge.rawValue,
                                                     "the text, quoted as JSON, exceeds max_payload"), request)
            }
        }
        awaitDeferredReply(to: request)
        let origin = PublishOrigin(loop: loop.index, connection: id, requestID: nil, wantsOutcome: true, arrival: loop.now)
        payload.withUnsafeBytes { loop.hub.publish(topic: topic, kind: kind, payload: $0, origin: origin) }
    }

    /// The owner sequenced our publish: answer, then go on with any pipelined request.
    func httpPublishCompleted(_ outcome: PublishOutcome) {
        let body = "{\"topic\":\(JSONText.quoted(outcome.topic.string)),\"epoch\":\(JSONText.quoted(outcome.position.epoch))"
            + ",\"seq\":\(outcome.position.seq),\"subscribers\":\(outcome.subscribers)}\n"
        completeDeferredReply(HTTPResponseHead.simple(.ok, body: body, contentType: "application/json", keepAlive: true))
    }

    /// Answers `request`, then reads the next request on the connection (or closes it).
    private func replyAndContinue(_ response: [UInt8], _ request: HTTPRequest) {
        replyAndContinue(OutboundBytes.copying(response), request)
    }

    private func replyAndContinue(_ response: OutboundBytes, _ request: HTTPRequest) {
        http.request = nil
        guard enqueue(response) else { return }
        guard Self.wantsKeepAlive(request) else { return closeAfterFlush() }
        expectNextRequest()
        if !http.pendingInput.isEmpty {
            var input = http.pendingInput
            http.pendingInput = []
            input.withUnsafeMutableBytes { consume($0) }
        }
    }

    // MARK: GET /history/<topic>

    static let historyPrefix = "/history/"
    /// Most messages one GET /history answer carries.
    static let maxHistoryLimit = 1000

    private func beginHistory(_ request: HTTPRequest) {
        guard request.method == "GET" else {
            return replyAndContinue(Self.jsonError(.methodNotAllowed, "method_not_allowed", "use GET", headers: [("Allow", "GET")]), request)
        }
        let name = PercentDecoding.decode(request.path.utf8.dropFirst(Self.historyPrefix.utf8.count))
        let topic: TopicName
        do { topic = try TopicName(validating: name, limits: config.topicLimits) } catch {
            let code = error == .wildcardInTopic ? ErrorCode.resumeRequiresTopic : ErrorCode.invalidTopic
            return replyAndContinue(Self.jsonError(.badRequest, code.rawValue, error.message), request)
        }
        if let grant, !grant.allowsSubscribe(to: TopicPattern(topic)) {
            permissionDenied("history", topic.string)
            return replyAndContinue(Self.jsonError(.forbidden, ErrorCode.forbidden.rawValue,
                                                   "this token may not read \(topic.string)"), request)
        }
        var limit = 100
        if let text = request.queryItem("limit") {
            guard let value = DecimalNumber.saturating(text) else {
                return replyAndContinue(Self.jsonError(.badRequest, ErrorCode.badRequest.rawValue, "limit must be a whole number"), request)
            }
            limit = Int(min(value, UInt64(Self.maxHistoryLimit)))
        }
        var start = ReplayStart.last(limit)
        if let since = request.queryItem("since") {
            guard let seq = DecimalNumber.unsigned(since), let epoch = request.queryItem("epoch") else {
                return replyAndContinue(Self.jsonError(.badRequest, ErrorCode.badRequest.rawValue,
                                                     "since needs a whole number and an epoch"), request)
            }
            start = .since(epoch: epoch, seq: seq)
        }
        awaitDeferredReply(to: request)
        // A quarter of the send queue of raw frames: base64 and the JSON around them stay
        // within half of it, so one answer never overflows the queue (`more` says to page).
        loop.hub.history(for: id, topic: topic, from: start, limit: limit, maxBytes: loop.queueBytesLimit / 4)
    }

    /// The owner's page answers a GET /history.
    func historyCompleted(_ page: ReplayPage, topic: TopicName) {
        completeDeferredReply(HistoryResponse.make(page, topic: topic))
    }

    static let continueResponse = OutboundBytes.copying(Array("HTTP/1.1 100 Continue\r\n\r\n".utf8))

    static func jsonError(_ status: HTTPStatus, _ code: String, _ message: String, headers: [(String, String)] = []) -> [UInt8] {
        HTTPResponseHead.simple(status, body: "{\"code\":\(JSONText.quoted(code)),\"message\":\(JSONText.quoted(message))}\n",
                                contentType: "application/json", headers: headers, keepAlive: true)
    }

    /// HTTP/1.1 keeps the connection unless told `close`; HTTP/1.0 only with `keep-alive`.
    static func wantsKeepAlive(_ request: HTTPRequest) -> Bool {
        if request.headers.containsToken("close", in: "Connection") { return false }
        if request.version.major == 1 && request.version.minor == 0 {
            return request.headers.containsToken("keep-alive", in: "Connection")
        }
        return true
    }

    static func hasBody(_ request: HTTPRequest) -> Bool {
        if request.headers["Transfer-Encoding"] != nil { return true }
        if let length = request.headers["Content-Length"], length != "0" { return true }
        return false
    }
}

/// A plain HTTP connection's request in progress (POST bodies and pipelining).
struct HTTPExchange {
    var request: HTTPRequest?
    var body: HTTPBodyDecoder?
    /// The reply waits for other loops (a publish's outcome from its topic's owner, or the
    /// snapshots of a scrape); input is not read meanwhile.
    var awaitingOutcome = false
    /// Bytes of pipelined requests that arrived while a deferred reply was pending.
    var pendingInput: [UInt8] = []
}

/// The hub's answer to a plain HTTP request (a publish's outcome, a history page) comes here.
final class PendingHTTPReply: HubEndpoint {
    unowned let connection: Connection

    init(connection: Connection) { self.connection = connection }

    func published(requestID: [UInt8]?, outcome: PublishOutcome) { connection.httpPublishCompleted(outcome) }

    func received(_ page: ReplayPage, of replay: ReplayProgress) -> Bool {
        connection.historyCompleted(page, topic: replay.topic)
        return false
    }
}
