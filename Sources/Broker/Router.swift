import Frames

/// A reply to a plain HTTP request, and whether the connection may stay open after it.
struct HTTPReply {
    var bytes: [UInt8]
    var keepAlive: Bool
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

    func webSocketService(for path: String) -> WebSocketService? {
        switch path {
        case "/bus": return bus
        case "/echo": return echo
        default: return nil
        }
    }

    func respond(to request: HTTPRequest) -> HTTPReply {
        switch request.path {
        case "/":
            guard request.method == "GET" || request.method == "HEAD" else { return Self.methodNotAllowed("GET, HEAD") }
            return HTTPReply(bytes: HTTPResponseHead.simple(.ok, body: HTTPResponses.homePage,
                                                            contentType: "text/html; charset=utf-8", keepAlive: true),
                             keepAlive: true)
        case "/healthz":
            guard request.method == "GET" || request.method == "HEAD" else { return Self.methodNotAllowed("GET, HEAD") }
            return HTTPReply(bytes: HTTPResponseHead.simple(.ok, body: "{\"status\":\"ok\"}\n",
                                                            contentType: "application/json", keepAlive: true),
                             keepAlive: true)
        default:
            return HTTPReply(bytes: HTTPResponseHead.simple(.notFound, body: "not found\n", keepAlive: true), keepAlive: true)
        }
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

    static let homePage = """
        <!doctype html><html><head><meta charset="utf-8"><title>bus</title></head>
        <body><h1>bus</h1><p>A WebSocket pub/sub broker. The echo service is at <code>/echo</code>.</p></body></html>

        """
}
