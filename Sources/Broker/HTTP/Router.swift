import BusProtocol
import Frames

/// What a request asks for, decided from its path alone.
enum Route {
    case webSocket(WebSocketEndpoint)
    case http(HTTPEndpoint)
}

/// Every path decision of the server: which WebSocket endpoint or plain HTTP endpoint serves
/// a request (methods are each endpoint's to judge). One per loop.
final class Router {
    let context: ServerContext
    let echo = EchoService()
    let bus: BusService
    let publish: PublishEndpoint
    let history: HistoryEndpoint
    let eventStream: EventStreamEndpoint
    let metrics = MetricsEndpoint()
    let preflight = PreflightEndpoint()
    let console = PageEndpoint(fixed: ConsolePage.html, contentType: "text/html; charset=utf-8")
    let health: PageEndpoint
    let ready: PageEndpoint
    let script = ScriptEndpoint()
    let notFound = PageEndpoint(readOnly: false) { head in
        OutboundBytes.copying(Router.response(.notFound, "not found\n", head: head))
    }

    init(context: ServerContext, hub: LoopHub) {
        self.context = context
        bus = BusService(hub: hub, config: context.config)
        publish = PublishEndpoint(config: context.config, hub: hub)
        history = HistoryEndpoint(config: context.config, hub: hub)
        eventStream = EventStreamEndpoint(config: context.config, hub: hub)
        health = PageEndpoint { [unowned context] head in
            let body = HTTPBody.health(connections: context.openConnections.load(ordering: .relaxed), loops: context.loopCount,
                                       backplane: context.backplane?.healthJSON ?? "\"none\"")
            return OutboundBytes.copying(Router.response(.ok, body, contentType: "application/json", head: head))
        }
        ready = PageEndpoint { [unowned context] head in
            let state = context.readiness
            // Cluster mode: a node cut off from the backplane serves only half the truth.
            let backplaneDown = context.backplane.map { !$0.isConnected } ?? false
            let name = state == .ready && backplaneDown ? "backplane_down" : state.name
            let status: HTTPStatus = state == .ready && !backplaneDown ? .ok : .serviceUnavailable
            return OutboundBytes.copying(Router.response(status, HTTPBody.readiness(name), contentType: "application/json", head: head))
        }
    }

    func route(_ request: HTTPRequest) -> Route {
        let path = request.path
        switch path {
        case "/bus": return .webSocket(bus)
        case "/echo": return .webSocket(echo)
        case "/": return .http(console)
        case "/bus.js": return .http(script)
        case "/healthz": return .http(health)
        case "/readyz": return .http(ready)
        case "/metrics": return .http(metrics)
        default:
            // A CORS preflight is answered for the path, whatever endpoint serves its method.
            if request.method == "OPTIONS" && CrossOrigin.methods(forPath: path) != nil { return .http(preflight) }
            if path.hasPrefix(PublishEndpoint.prefix) { return .http(publish) }
            if path.hasPrefix(HistoryEndpoint.prefix) { return .http(history) }
            if path.hasPrefix(EventStreamEndpoint.prefix) { return .http(eventStream) }
            return .http(notFound)
        }
    }

    /// A keep-alive response; for `HEAD` the same head (its `Content-Length` included) and no
    /// body (RFC 9110 §9.3.2): a body there would be read as the start of the next response.
    static func response(_ status: HTTPStatus, _ body: String, contentType: String = "text/plain; charset=utf-8",
                         headers: [(String, String)] = [], head: Bool) -> [UInt8] {
        response(status, Array(body.utf8), contentType: contentType, headers: headers, head: head)
    }

    static func response(_ status: HTTPStatus, _ body: [UInt8], contentType: String,
                         headers: [(String, String)] = [], head: Bool) -> [UInt8] {
        let bytes = HTTPResponseHead.simple(status, bytes: body, contentType: contentType, headers: headers, keepAlive: true)
        return head ? Array(bytes.dropLast(body.count)) : bytes
    }

    static func methodNotAllowed(_ allow: String) -> [UInt8] {
        HTTPResponseHead.simple(.methodNotAllowed, body: "method not allowed\n", headers: [("Allow", allow)], keepAlive: true)
    }
}

/// Fixed replies.
enum HTTPResponses {
    /// Sent, best effort, to a connection refused because the server is full.
    static let serviceUnavailable: [UInt8] = HTTPResponseHead.simple(.serviceUnavailable, body: "server full\n")
    /// Sent, best effort, to a connection refused by a per-address limit.
    static let tooManyRequests: [UInt8] = HTTPResponseHead.simple(.tooManyRequests, body: "too many connections from this address\n")
}
