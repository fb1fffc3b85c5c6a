import Frames

/// A reply to a plain HTTP request, and whether the connection may stay open after it.
struct HTTPReply {
    var bytes: [UInt8]
    var keepAlive: Bool
    /// The same bytes, built once and shared by every answer (fixed pages).
    var shared: OutboundBytes?

    init(bytes: [UInt8], keepAlive: Bool, shared: OutboundBytes? = nil) {
        self.bytes = bytes
        self.keepAlive = keepAlive
        self.shared = shared
    }

    /// A fixed answer, encoded once: queued by reference however often it is asked for.
    static func fixed(_ bytes: [UInt8]) -> HTTPReply {
        HTTPReply(bytes: [], keepAlive: true, shared: OutboundBytes.copying(bytes))
    }
}

/// What a request asks for, decided from its path and method alone.
enum Route {
    case webSocket(WebSocketEndpoint)
    /// `POST /publish/<topic>` (any method: the publish path answers 405 itself, as JSON).
    case publish
    /// `GET /metrics`: answered once every loop has sent its snapshot. `head` for `HEAD`.
    case metrics(head: Bool)
    /// Answered at once.
    case reply(HTTPReply)
}

/// Maps request paths to WebSocket services and plain HTTP endpoints. One per loop.
final class Router {
    let context: ServerContext
    let echo = EchoService()
    let bus: BusService

    init(context: ServerContext, hub: LoopHub) {
        self.context = context
        bus = BusService(hub: hub, config: context.config)
    }

    func webSocketService(for path: String) -> WebSocketEndpoint? {
        switch path {
        case "/bus": return bus
        case "/echo": return echo
        default: return nil
        }
    }

    func route(_ request: HTTPRequest) -> Route {
        if let service = webSocketService(for: request.path) { return .webSocket(service) }
        if request.path.hasPrefix(Connection.publishPrefix) { return .publish }
        let head = request.method == "HEAD"
        let readOnly = request.method == "GET" || head
        switch request.path {
        case "/":
            guard readOnly else { return .reply(Self.methodNotAllowed("GET, HEAD")) }
            return .reply(head ? Self.consoleHead : Self.console)
        case "/healthz":
            guard readOnly else { return .reply(Self.methodNotAllowed("GET, HEAD")) }
            let body = "{\"status\":\"ok\",\"connections\":\(context.openConnections.load(ordering: .relaxed))"
                + ",\"loops\":\(context.loopCount),\"backplane\":\(context.backplane?.healthJSON ?? "\"none\"")}\n"
            return .reply(Self.ok(body, contentType: "application/json", head: head))
        case "/readyz":
            guard readOnly else { return .reply(Self.methodNotAllowed("GET, HEAD")) }
            let state = context.readiness
            // Cluster mode: a node cut off from the backplane serves only half the truth.
            let backplaneDown = context.backplane.map { !$0.isConnected } ?? false
            let name = state == .ready && backplaneDown ? "backplane_down" : state.name
            let body = "{\"status\":\"\(name)\"}\n"
            let status: HTTPStatus = state == .ready && !backplaneDown ? .ok : .serviceUnavailable
            return .reply(HTTPReply(bytes: Self.response(status, body, contentType: "application/json", head: head), keepAlive: true))
        case "/metrics":
            guard readOnly else { return .reply(Self.methodNotAllowed("GET, HEAD")) }
            return .metrics(head: head)
        default:
            return .reply(HTTPReply(bytes: Self.response(.notFound, "not found\n", head: head), keepAlive: true))
        }
    }

    /// The console page, 15 KB: shared, so a client asking for it again and again costs a
    /// reference per answer (its queue still counts every byte).
    static let console = HTTPReply.fixed(response(.ok, ConsolePage.html, contentType: "text/html; charset=utf-8", head: false))
    static let consoleHead = HTTPReply.fixed(response(.ok, ConsolePage.html, contentType: "text/html; charset=utf-8", head: true))

    static func ok(_ body: String, contentType: String, head: Bool) -> HTTPReply {
        HTTPReply(bytes: response(.ok, body, contentType: contentType, head: head), keepAlive: true)
    }

    /// A keep-alive response; for `HEAD` the same head (its `Content-Length` included) and no
    /// body (RFC 9110 §9.3.2): a body there would be read as the start of the next response.
    static func response(_ status: HTTPStatus, _ body: String, contentType: String = "text/plain; charset=utf-8",
                         headers: [(String, String)] = [], head: Bool) -> [UInt8] {
        let bytes = HTTPResponseHead.simple(status, body: body, contentType: contentType, headers: headers, keepAlive: true)
        return head ? Array(bytes.dropLast(body.utf8.count)) : bytes
    }

    static func methodNotAllowed(_ allow: String) -> HTTPReply {
        HTTPReply(bytes: HTTPResponseHead.simple(.methodNotAllowed, body: "method not allowed\n",
                                                 headers: [("Allow", allow)], keepAlive: true),
                  keepAlive: true)
    }
}

/// Fixed replies.
enum HTTPResponses {
    /// Sent, best effort, to a connection refused because the server is full.
    static let serviceUnavailable: [UInt8] = HTTPResponseHead.simple(.serviceUnavailable, body: "server full\n")
    /// Sent, best effort, to a connection refused by a per-address limit.
    static let tooManyRequests: [UInt8] = HTTPResponseHead.simple(.tooManyRequests, body: "too many connections from this address\n")
}
