import Auth
import BusProtocol
import Frames
import Topics

/// The HTTP phase of a connection: requests read and guarded here, then served by the
/// endpoint the router picks (`HTTPEndpoint`, or a WebSocket upgrade). What an endpoint does
/// with a request lives in the endpoint; how it is read, answered and followed by the next one
/// (keep-alive, pipelining, bodies, answers that wait for other loops) lives here.
extension Connection {
    /// Feeds bytes to the request-head parser, or to the body decoder of a request in
    /// progress. Returns how many bytes were used when a head or body completed (the rest are
    /// frames or the next request), or nil when everything was consumed.
    func consumeHTTP(_ bytes: UnsafeRawBufferPointer) -> Int? {
        // A head is read (`parser`) or a body (`body`), never both: the parser is made only
        // by a fresh exchange, the decoder only once a head is complete. Asked in that order
        // because `http.body != nil` copied the decoder out to test it, on every head.
        // Parsed where it lies: a copy out and back cost as much as a short head's lines.
        switch http.parser?.parse(bytes) {
        case nil:
            return consumeBody(bytes)
        case .needMore?:
            return nil
        case .failure(let status, let message)?:
            http.parser = nil
            replyAndClose(HTTPResponseHead.simple(status, body: message + "\n"))
            log.debug("bad HTTP request", peerFields + [("status", String(status.code))])
            return nil
        case .complete(var request, let consumed)?:
            http.parser = nil
            handle(request)
            // An upgraded request is done with: its header storage serves a later connection.
            if phase == .open { onLoop { $0.recycle(&request.headers) } }
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
        if request.version >= .http1_1 && request.headers.lineCount("Host") != 1 {
            return replyAndClose(HTTPResponseHead.simple(.badRequest, body: "an HTTP/1.1 request needs exactly one Host header\n"))
        }
        // `peer.host` formats the address: only when proxies are configured at all.
        if !loop.context.proxies.isEmpty && loop.context.proxies.trusts(peer.host) && !identifyClient(behindProxy: request) { return }
        switch loop.router.route(request) {
        case .webSocket(let endpoint):
            guard admitted(request, webSocket: true) else { return }
            upgrade(request, to: endpoint)
        case .http(let endpoint):
            guard !endpoint.isGuarded || admitted(request, webSocket: false, token: endpoint.needsToken) else { return }
            http.request = request
            http.endpoint = endpoint
            endpoint.serve(request, on: self)
        }
    }

    /// The guards of everything that reaches topics: the origin policy (403), then the token
    /// (401) when auth is configured and `token`. False when refused (the answer is queued).
    /// An allowed origin on a path CORS opens is echoed in every answer from here on (the 401
    /// included, so a page can read it): see `CrossOrigin`.
    private func admitted(_ request: HTTPRequest, webSocket: Bool, token: Bool = true) -> Bool {
        let loopbackOnly = loop.context.loopbackOnly
        // Without an Origin (nearly every client but a browser) the Host is read in place.
        let plainlyAllowed = !request.headers.contains("Origin")
            && request.headers.withFirstValue("Host") { OriginPolicy.allowsWithoutOrigin(host: $0, loopbackListener: loopbackOnly) }
        if !plainlyAllowed, case .refuse(let why) = loop.context.originPolicy.check(
            origin: request.headers["Origin"], host: request.headers["Host"], loopbackListener: loop.context.loopbackOnly) {
            log.info("request refused by origin policy", peerFields + [("origin", request.headers["Origin"] ?? ""),
                                                          ("host", request.headers["Host"] ?? ""), ("path", request.path)])
            replyAndClose(webSocket ? HTTPResponseHead.simple(.forbidden, body: why + "\n")
                                    : HTTPResponseHead.simple(.forbidden, bytes: HTTPBody.error(code: ErrorCode.forbidden.rawValue, message: why),
                                                              contentType: "application/json", keepAlive: true))
            return false
        }
        if !webSocket, let origin = request.headers["Origin"], CrossOrigin.methods(forPath: request.path) != nil {
            http.crossOrigin = CrossOrigin.responseLines(origin: origin)
        }
        return !token || authenticate(request, webSocket: webSocket)
    }

    private func upgrade(_ request: HTTPRequest, to endpoint: WebSocketEndpoint) {
        do throws(HandshakeError) {
            let upgrade = try ServerHandshake.validate(request)
            let subprotocol = try endpoint.negotiate(upgrade.offeredSubprotocols)
            let deflate = negotiateCompression(upgrade)
            let extensions = deflate?.response
            enqueue(OutboundBytes.make(count: ServerHandshake.responseCount(subprotocol: subprotocol, extensions: extensions)) {
                ServerHandshake.writeResponse(to: upgrade, subprotocol: subprotocol, extensions: extensions, into: $0)
            })
            becomeOpen(endpoint, compression: deflate?.agreement)
        } catch {
            replyAndClose(error.response())
            log.debug("handshake refused", peerFields + [("status", String(error.status.code)),
                                            ("reason", error.message)])
        }
    }

    // MARK: answering (what endpoints call)

    /// Answers `request`, then reads the next request on the connection, or closes it when
    /// the client asked to or an unread body stands in the way.
    func reply(_ response: [UInt8], to request: HTTPRequest) {
        reply(OutboundBytes.copying(response), to: request)
    }

    func reply(_ response: OutboundBytes, to request: HTTPRequest) {
        let response = http.crossOrigin.map { CrossOrigin.splice($0, into: response) } ?? response
        let bodyUnread = Self.hasBody(request) && !http.bodyRead
        http = HTTPExchange(pendingInput: http.pendingInput)
        guard enqueue(response) else { return }
        guard Self.wantsKeepAlive(request) && !bodyUnread else { return closeAfterFlush() }
        expectNextRequest()
        if !http.pendingInput.isEmpty {
            var input: [UInt8] = []
            swap(&input, &http.pendingInput)
            input.withUnsafeMutableBytes { consume($0) }
        }
    }

    /// Answers and closes: the request cannot be skipped (its body was not read) or the
    /// connection cannot go on.
    func replyAndClose(_ bytes: [UInt8]) {
        let response = OutboundBytes.copying(bytes)
        enqueue(http.crossOrigin.map { CrossOrigin.splice($0, into: response) } ?? response)
        closeAfterFlush()
    }

    /// Reads `request`'s body (answering `Expect: 100-continue`), then hands it to the
    /// endpoint serving the request (`HTTPEndpoint.received(body:of:on:)`).
    func readBody(of request: HTTPRequest, framing: HTTPBodyDecoder.Framing, maxBodySize: Int) {
        if request.headers.containsToken("100-continue", in: "Expect") { enqueue(Self.continueResponse) }
        http.body = HTTPBodyDecoder(framing: framing, maxBodySize: maxBodySize)
        if framing == .none { _ = consumeBody(UnsafeRawBufferPointer(start: nil, count: 0)) }
    }

    /// The answer to `request` comes later, from other loops: `waiter` takes the hub's answer
    /// (nil when something else completes it). Further input waits, pipelined requests in
    /// the socket, not in memory, until `completeReply`.
    func awaitReply(to request: HTTPRequest, from waiter: HubEndpoint?) {
        http.request = request
        http.awaitingOutcome = true
        endpoint = waiter
        pause(.awaitingReply)
    }

    func completeReply(_ response: OutboundBytes) {
        guard http.awaitingOutcome, let request = http.request else { return }
        http.awaitingOutcome = false
        endpoint = nil
        resume(.awaitingReply)
        reply(response, to: request)
    }

    // MARK: reading

    private func consumeBody(_ bytes: UnsafeRawBufferPointer) -> Int? {
        guard var decoder = http.body, let request = http.request else { return nil }
        http.body = nil
        switch decoder.decode(bytes) {
        case .needMore:
            http.body = decoder
            return nil
        case .failure(let status, let message):
            replyAndClose(HTTPResponseHead.simple(status, bytes: HTTPBody.error(
                code: (status == .payloadTooLarge ? ErrorCode.payloadTooLarge : ErrorCode.badRequest).rawValue, message: message),
                contentType: "application/json", keepAlive: true))
            return nil
        case .complete(let body, let consumed):
            http.bodyRead = true
            http.endpoint?.received(body: body, of: request, on: self)
            return consumed
        }
    }

    private func expectNextRequest() {
        http.parser = HTTPRequestParser(maxHeadSize: loop.maxHandshakeSize)
        restartHandshakeDeadline()
    }

    static let continueResponse = OutboundBytes.copying(Array("HTTP/1.1 100 Continue\r\n\r\n".utf8))

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

/// The HTTP phase's state: the request head being read, the request in progress (its body,
/// an answer from other loops), and pipelined input. A class the connection holds only
/// during the phase (`Connection.http`), so an open WebSocket carries none of it. Reused by
/// later connections of the loop: a stored property added here is reset in `reset()`.
final class HTTPExchange {
    /// Reads the next request head; nil while a request is being served.
    var parser: HTTPRequestParser?
    var request: HTTPRequest?
    /// The endpoint serving `request`.
    var endpoint: HTTPEndpoint?
    var body: HTTPBodyDecoder?
    var bodyRead = false
    /// The reply waits for other loops (a publish's outcome from its topic's owner, a history
    /// page, or the snapshots of a scrape); input is not read meanwhile.
    var awaitingOutcome = false
    /// Bytes of pipelined requests read while the connection was paused.
    var pendingInput: [UInt8] = []
    /// The CORS header lines every answer to `request` carries (its `Origin` was allowed).
    var crossOrigin: [UInt8]?
    /// Loop time at which the request's token expires (an event stream ends then).
    var tokenExpiry: UInt64?

    init(pendingInput: [UInt8] = []) { self.pendingInput = pendingInput }

    /// Back to a new exchange's state, for another connection (`EventLoop.recycle`).
    func reset() {
        parser = nil
        request = nil
        endpoint = nil
        body = nil
        bodyRead = false
        awaitingOutcome = false
        pendingInput = []
        crossOrigin = nil
        tokenExpiry = nil
    }
}
