/// One message of a subscription.
public struct BusMessage: Sendable, Equatable {
    public let topic: String
    /// The topic's epoch and the message's number in it (Protocol.md "Sequence numbers").
    public let epoch: String
    public let seq: UInt64
    public let payload: Payload

    public enum Payload: Sendable, Equatable {
        /// The published JSON value, byte for byte.
        case json([UInt8])
        /// The published bytes.
        case binary([UInt8])
    }

    /// The JSON text of a JSON payload; nil for binary.
    public var jsonText: String? {
        if case .json(let bytes) = payload { return String(decoding: bytes, as: UTF8.self) }
        return nil
    }
}

/// What a subscription yields: messages, and — never silently — the places where messages
/// were lost.
public enum SubscriptionEvent: Sendable, Equatable {
    case message(BusMessage)
    case gap(BusGap)
}

/// Messages the subscription will never deliver (history no longer held them, or the server
/// restarted without keeping history, or a topic started a new epoch).
public struct BusGap: Sendable, Equatable {
    public enum Cause: Sendable, Equatable {
        /// A resume found history incomplete; `lost` names the topics when the server knows.
        case historyIncomplete
        /// A topic's epoch changed between two messages (its sequence started over).
        case epochChanged
    }

    public let cause: Cause
    /// Per topic: where delivery goes on (the oldest position still held), when known.
    public let lost: [LostTopic]

    public struct LostTopic: Sendable, Equatable {
        public let topic: String
        /// The position delivery continues from, if history held anything.
        public let earliest: (epoch: String, seq: UInt64)?

        public init(topic: String, earliest: (epoch: String, seq: UInt64)?) {
            self.topic = topic
            self.earliest = earliest
        }

        public static func == (a: LostTopic, b: LostTopic) -> Bool {
            a.topic == b.topic && a.earliest?.epoch == b.earliest?.epoch && a.earliest?.seq == b.earliest?.seq
        }
    }
}

/// The server's answer to a publish.
public struct PublishAck: Sendable, Equatable {
    public let topic: String
    public let epoch: String
    public let seq: UInt64
    /// Subscriptions on that server the message was handed to.
    public let subscribers: Int
}

/// Where a new subscription starts.
public enum StartPosition: Sendable, Equatable {
    /// With the next message published.
    case now
    /// With the newest `n` retained messages (of each matching topic, for a pattern).
    case last(Int)
    /// After a position of a literal topic.
    case after(epoch: String, seq: UInt64)
    /// After a pattern's cursor (from an earlier subscription's `cursor`).
    case cursor(String)
}

/// The client's connection, as it changes.
public enum ConnectionState: Sendable, Equatable {
    case connecting
    case connected
    /// Waiting `delay` seconds before attempt `attempt`.
    case reconnecting(attempt: Int, delay: Double)
    case closed
}

/// Everything a client call can fail with.
public enum BusClientError: Error, Sendable, Equatable, CustomStringConvertible {
    case invalidURL(String)
    /// The server refused a request (`code` from Protocol.md's error codes).
    case refused(code: String, message: String)
    /// The server refused the connection for good (400, 401 after a token refresh, 403, 404).
    case connectionRefused(status: Int, reason: String)
    /// No answer within the timeout; a publish's outcome is then unknown.
    case timedOut
    /// The link dropped after the publish was sent and before its ack: it may or may not have
    /// been published. The client never sends it again (the protocol has no idempotency key).
    case unknownOutcome
    /// Too many publishes are waiting for a connection.
    case tooManyPending
    /// The data given as JSON is not one JSON value.
    case invalidJSON
    /// The client was closed.
    case closed
    /// With `reconnect` off: the server's name does not resolve (`reason`: the resolver's words).
    case cannotResolve(host: String, reason: String)
    /// With `reconnect` off: nothing accepted the connection (`reason`: the system's words).
    case cannotConnect(address: String, reason: String, refused: Bool)
    /// With `reconnect` off: the connection ended.
    case connectionLost(String)

    public var description: String {
        switch self {
        case .invalidURL(let why): return "invalid URL: \(why)"
        case .refused(let code, let message): return "\(code): \(message)"
        case .connectionRefused(let status, let reason): return "connection refused: \(status) \(reason)"
        case .timedOut: return "timed out"
        case .unknownOutcome: return "the connection dropped before the ack: the publish may or may not have taken effect"
        case .tooManyPending: return "too many publishes waiting for a connection"
        case .invalidJSON: return "not a JSON value"
        case .closed: return "the client is closed"
        case .cannotResolve(let host, let reason): return "cannot resolve \(host): \(reason)"
        case .cannotConnect(let address, let reason, _): return "cannot connect to \(address): \(reason)"
        case .connectionLost(let why): return why
        }
    }
}
