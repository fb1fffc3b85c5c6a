import BusProtocol
import Frames
import Topics

/// `GET /sse/<pattern>[?topic=<pattern>…]` (Protocol.md "Server-Sent Events"): a
/// `text/event-stream` of the messages of one or more patterns, for clients with no WebSocket
/// (curl, a browser's `EventSource`, a backend). The path holds one pattern (percent-decoded,
/// it may be empty: `/sse/?topic=a&topic=b`), each `topic` query parameter one more: a comma
/// is a legal topic byte, so patterns are never split at commas.
///
/// Every refusal comes before the stream starts, as a JSON error with its status (an
/// `EventSource` gives up for good on any non-200, which is right for these); a position the
/// stream cannot resume from is never one of them (200 and a `recovered: false` event).
final class EventStreamEndpoint: HTTPEndpoint {
    static let prefix = "/sse/"
    private let config: ServerConfig
    private let hub: LoopHub

    init(config: ServerConfig, hub: LoopHub) {
        self.config = config
        self.hub = hub
    }

    var isGuarded: Bool { true }

    func serve(_ request: HTTPRequest, on connection: Connection) {
        if refusedUnlessPlainGet(request, on: connection) { return }
        let patterns: [TopicPattern]
        switch Self.patterns(of: request, limits: config.topicLimits, max: config.maxSubscriptions) {
        case .failure(let refusal):
            return connection.reply(Self.jsonError(.badRequest, refusal.code, refusal.message), to: request)
        case .success(let found):
            patterns = found
        }
        if let grant = connection.grant, let denied = patterns.first(where: { !grant.allowsSubscribe(to: $0) }) {
            connection.permissionDenied("subscribe", denied.string)
            return connection.reply(Self.jsonError(.forbidden, .forbidden, "this token may not subscribe to \(denied.string)"),
                                    to: request)
        }
        let resume: EventStreamPosition.Request
        switch Self.resumeRequest(request) {
        case .failure(let refusal):
            return connection.reply(Self.jsonError(.badRequest, refusal.code, refusal.message), to: request)
        case .success(let found):
            resume = found
        }
        let stream = EventStream(connection: connection, hub: hub, patterns: patterns, request: resume)
        connection.beginEventStream(stream, head: Self.head(retry: Int.random(in: 1000...10_000)),
                                    tokenExpiry: connection.http.tokenExpiry)
        guard connection.phase == .streaming else { return }
        stream.start()
    }

    struct Refusal: Error {
        let code: ErrorCode
        let message: String
    }

    /// The stream's patterns, deduplicated and sorted (so the same set is the same stream
    /// whatever the order in the URL).
    static func patterns(of request: HTTPRequest, limits: TopicLimits, max: Int) -> Result<[TopicPattern], Refusal> {
        var texts: [[UInt8]] = []
        let path = PercentDecoding.decode(request.path.utf8.dropFirst(prefix.utf8.count))
        if !path.isEmpty { texts.append(path) }
        for item in request.queryItems() where item.name == "topic" { texts.append(Array(item.value.utf8)) }
        guard !texts.isEmpty else { return .failure(Refusal(code: .invalidTopic, message: "name a pattern: /sse/<pattern>")) }
        var patterns = Set<TopicPattern>()
        for text in texts {
            let parsed = text.withUnsafeBytes { bytes in
                Result { () throws(TopicError) in try TopicPattern(validating: bytes, limits: limits) }
            }
            switch parsed {
            case .success(let pattern): patterns.insert(pattern)
            case .failure(let error): return .failure(Refusal(code: .invalidTopic, message: error.message))
            }
        }
        guard patterns.count <= max else {
            return .failure(Refusal(code: .tooManySubscriptions, message: "at most \(max) patterns per stream"))
        }
        return .success(patterns.sorted { $0.string < $1.string })
    }

    /// `Last-Event-ID` (an `EventSource` sends it on its own reconnects) wins over `?since=`,
    /// which wins over `?last=`; an empty one is absent (a browser sends none before its first
    /// id). Only a `last` that is not a whole number is refused: an id the stream cannot use is
    /// answered in the stream.
    static func resumeRequest(_ request: HTTPRequest) -> Result<EventStreamPosition.Request, Refusal> {
        if let id = request.headers["Last-Event-ID"], !id.isEmpty { return .success(.id(id)) }
        if let since = request.queryItem("since"), !since.isEmpty { return .success(.id(since)) }
        guard let last = request.queryItem("last") else { return .success(.none) }
        guard let count = DecimalNumber.saturating(last) else {
            return .failure(Refusal(code: .badRequest, message: "last must be a whole number"))
        }
        return .success(.last(Int(min(count, UInt64(Int32.max)))))
    }

    /// Close-delimited (RFC 9112 §6.3, rule 8): no `Content-Length`, no chunking, and
    /// `Connection: close`; the stream ends when the server closes the connection.
    static func head(retry milliseconds: Int) -> OutboundBytes {
        var head = HTTPResponseHead(status: .ok)
        head.headers.add("Content-Type", "text/event-stream")
        head.headers.add("Cache-Control", "no-store")
        head.headers.add("X-Accel-Buffering", "no")
        head.headers.add("Connection", "close")
        return OutboundBytes.copying(head.serialized() + EventStreamEncoding.retry(milliseconds: milliseconds))
    }
}
