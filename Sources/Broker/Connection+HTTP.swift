import Frames

extension Connection {
    /// Feeds bytes to the request-head parser. Returns how many bytes a complete head used
    /// (the rest are frames or the next request), or nil when everything was consumed.
    func consumeHTTP(_ bytes: UnsafeRawBufferPointer) -> Int? {
        guard var parser = httpParser else { return nil }
        httpParser = nil
        switch parser.parse(bytes) {
        case .needMore:
            httpParser = parser
            return nil
        case .failure(let status, let message):
            replyAndClose(HTTPResponseHead.simple(status, body: message + "\n"))
            log.debug("bad HTTP request", [("peer", peer.description), ("status", String(status.code))])
            return nil
        case .complete(let request, let consumed):
            handle(request)
            return consumed
        }
    }

    private func handle(_ request: HTTPRequest) {
        if let service = loop.router.webSocketService(for: request.path) {
            upgrade(request, to: service)
            return
        }
        let reply = loop.router.respond(to: request)
        enqueue(OutboundBytes.copying(reply.bytes))
        if reply.keepAlive && Self.wantsKeepAlive(request) && !Self.hasBody(request) {
            httpParser = HTTPRequestParser(maxHeadSize: config.maxHandshakeSize)
        } else {
            closeAfterFlush()
        }
    }

    private func upgrade(_ request: HTTPRequest, to service: WebSocketService) {
        do throws(HandshakeError) {
            let upgrade = try ServerHandshake.validate(request)
            let subprotocol = try service.negotiate(upgrade.offeredSubprotocols)
            enqueue(OutboundBytes.copying(ServerHandshake.response(key: upgrade.key, subprotocol: subprotocol)))
            becomeOpen(service: service, subprotocol: subprotocol)
        } catch {
            replyAndClose(error.response())
            log.debug("handshake refused", [("peer", peer.description), ("status", String(error.status.code)),
                                            ("reason", error.message)])
        }
    }

    func replyAndClose(_ bytes: [UInt8]) {
        enqueue(OutboundBytes.copying(bytes))
        closeAfterFlush()
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
