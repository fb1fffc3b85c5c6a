import Frames

/// `GET /metrics`: every loop's snapshot, gathered through the inboxes, summed and rendered
/// as the Prometheus text format once all have answered.
final class MetricsEndpoint: HTTPEndpoint {
    func serve(_ request: HTTPRequest, on connection: Connection) {
        let head = request.method == "HEAD"
        guard request.method == "GET" || head else { return connection.reply(Router.methodNotAllowed("GET, HEAD"), to: request) }
        guard !Connection.hasBody(request) else {
            return connection.replyAndClose(HTTPResponseHead.simple(.badRequest, body: "a GET has no body\n"))
        }
        connection.awaitReply(to: request, from: nil)
        let (id, loop) = (connection.id, connection.loop)
        loop.gatherSnapshots { [unowned loop] snapshots in
            guard let connection = loop.connection(id) else { return }
            let text = MetricsExposition.render(snapshots) + MetricsExposition.render(backplane: loop.context.backplane)
                + MetricsExposition.render(store: loop.context.durable)
            connection.completeReply(OutboundBytes.copying(Router.response(.ok, text, contentType: MetricsExposition.contentType, head: head)))
        }
    }
}
