import BusProtocol
import Frames
import Synchronization
import Topics

/// A client of a bus server (Protocol.md), for applications: it connects, stays connected
/// (reconnecting with backoff and jitter), and resumes every subscription — topics and
/// patterns — from the last message it received, so nothing that the server's history still
/// holds is lost across a cut, a slow-consumer drop or a restart, and whatever is lost is
/// said in the stream (`SubscriptionEvent.gap`).
///
/// ```swift
/// let bus = try BusClient(url: "ws://127.0.0.1:8080/bus")
/// let chat = try await bus.subscribe("chat.>")
/// Task { for try await event in chat { print(event) } }
/// let ack = try await bus.publish("chat.room1", json: #"{"text":"hi"}"#)
/// ```
///
/// Publishes made while the client is reconnecting wait for the connection, at most
/// `publishTimeout` seconds and `maxPendingPublishes` of them. A publish whose link drops
/// before its ack fails with `.unknownOutcome` and is never sent again. `ws://` only: put
/// TLS in a reverse proxy, as for the server.
public final class BusClient: Sendable {
    public struct Options: Sendable {
        /// Sent as `Authorization: Bearer` on every connection.
        public var token: String?
        /// Asked for a fresh token when the server closes with "token expired" (1008) or
        /// answers 401; nil ends the client.
        public var tokenProvider: (@Sendable () async -> String?)?
        /// Messages buffered per subscription; a consumer this far behind makes the client
        /// stop reading (and the server, in time, drops and the client resumes).
        public var bufferSize = 1024
        public var publishTimeout = 10.0
        public var connectTimeout = 10.0
        public var maxPendingPublishes = 1000
        public var maxMessageSize = 64 << 20
        /// Offer permessage-deflate (RFC 7692), as browsers do: messages the server compresses
        /// arrive smaller and are inflated here; publishes go out as they are.
        public var compression = true
        /// A connection from which nothing at all has arrived for this long is taken for dead
        /// (a cut path sends no reset) and replaced. nil: the server's `ping_interval` (from
        /// its welcome; it pings a quiet connection that often) plus 10 seconds.
        public var silenceTimeout: Double?
        /// Off: the first failure to connect, or the end of the connection, ends the client
        /// (every subscription and publish fails with the reason) instead of reconnecting.
        public var reconnect = true

        public init(token: String? = nil) { self.token = token }
    }

    private let core: ClientCore
    private let nextID = Atomic<Int>(0)

    public init(url: String, options: Options = Options()) throws(BusClientError) {
        let parsed: WebSocketURL
        do { parsed = try WebSocketURL(url, defaultPath: "/bus") } catch { throw .invalidURL(error.message) }
        core = ClientCore(url: parsed, options: options)
        core.start()
    }

    deinit { core.send(.close) }

    /// The connection now; `stateChanges()` for every change.
    public var state: ConnectionState { core.state }

    /// The current state, then each change, until the client closes.
    public func stateChanges() -> AsyncStream<ConnectionState> { core.stateChanges() }

    /// Subscribes to a topic or pattern (`*` one segment, `>` the rest) and returns once the
    /// server has acknowledged it: every message published after that is delivered (while the
    /// server is unreachable it waits for it). Events come through the returned sequence until
    /// `unsubscribe` or `close`; it resumes by itself after any cut.
    public func subscribe(_ pattern: String, from start: StartPosition = .now) async throws(BusClientError) -> Subscription {
        let parsed: TopicPattern
        do { parsed = try TopicPattern(pattern) } catch { throw .refused(code: "invalid_topic", message: error.message) }
        if case .after = start, parsed.literal == nil {
            throw .refused(code: "resume_requires_topic", message: "a pattern resumes from a cursor, not a topic position")
        }
        let channel = EventChannel(capacity: options.bufferSize, wake: core.wake)
        let id = nextID.add(1, ordering: .relaxed).newValue
        core.send(.subscribe(id: id, tracker: ResumeTracker(pattern: parsed, start: start), channel: channel))
        try await channel.waitActive()
        return Subscription(pattern: pattern, id: id, channel: channel)
    }

    public func unsubscribe(_ subscription: Subscription) { core.send(.unsubscribe(id: subscription.id)) }

    /// Publishes a JSON value (its text, passed through byte for byte).
    @discardableResult
    public func publish(_ topic: String, json: String) async throws(BusClientError) -> PublishAck {
        try await publish(topic, jsonBytes: Array(json.utf8))
    }

    @discardableResult
    public func publish(_ topic: String, jsonBytes: [UInt8]) async throws(BusClientError) -> PublishAck {
        guard jsonBytes.withUnsafeBytes({ JSON.validateValue($0) }) else { throw .invalidJSON }
        try Self.check(topic)
        let id = "p\(nextID.add(1, ordering: .relaxed).newValue)"
        return try await send(.text, ClientEnvelope.publish(topic: topic, dataJSON: jsonBytes, id: id), id: id)
    }

    /// Publishes opaque bytes (Protocol.md "binary publish").
    @discardableResult
    public func publish(_ topic: String, binary payload: [UInt8]) async throws(BusClientError) -> PublishAck {
        try Self.check(topic)
        let id = "p\(nextID.add(1, ordering: .relaxed).newValue)"
        return try await send(.binary, BinaryLayout.encodePublish(topic: topic, id: id, payload: payload), id: id)
    }

    /// Closes the connection; subscriptions end, waiting publishes fail with `.closed`.
    public func close() { core.send(.close) }

    private var options: Options { core.options }

    private static func check(_ topic: String) throws(BusClientError) {
        do { _ = try TopicName(topic) } catch { throw .refused(code: "invalid_topic", message: error.message) }
    }

    private func send(_ opcode: Opcode, _ frame: [UInt8], id: String) async throws(BusClientError) -> PublishAck {
        let deadline = ClientCore.now() + options.publishTimeout
        let result = await withCheckedContinuation { continuation in
            core.send(.publish(PendingPublish(opcode: opcode, frame: frame, idToken: "\"\(id)\"", deadline: deadline,
                                              continuation: continuation)))
        }
        return try result.get()
    }
}
