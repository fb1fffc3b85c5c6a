/// The stable `code` strings of error envelopes and HTTP error bodies (Protocol.md "Error
/// codes").
///
/// Clients match on these strings, so a raw value never changes once published; new
/// failures get new cases. `message` texts beside them are for humans and may change.
public enum ErrorCode: String, Sendable, CaseIterable {
    /// The text frame is not one JSON object, or `data` is invalid JSON or too deep.
    case badJSON = "bad_json"
    /// A missing or mistyped field, a duplicate key, a bad id, a malformed binary header.
    case badRequest = "bad_request"
    /// `type` is not `subscribe`, `unsubscribe` or `publish`.
    case unknownType = "unknown_type"
    /// The topic or pattern breaks the topic rules, or a publish names a pattern.
    case invalidTopic = "invalid_topic"
    /// Unsubscribe from a pattern the connection does not hold.
    case notSubscribed = "not_subscribed"
    /// The connection already holds `max_subscriptions` patterns.
    case tooManySubscriptions = "too_many_subscriptions"
    /// The payload exceeds `max_payload`.
    case payloadTooLarge = "payload_too_large"
    /// Sent just before close 4008 when a send queue overflows.
    case slowConsumer = "slow_consumer"
    /// History and resume work on literal topics only.
    case resumeRequiresTopic = "resume_requires_topic"
    /// The connection's token does not allow this subscribe or publish (also HTTP 403, and
    /// a refused Origin).
    case forbidden = "forbidden"
    /// HTTP only: no token, or one that is invalid or expired (401).
    case unauthorized = "unauthorized"
    /// The connection went over its publish or subscribe rate; the request was dropped.
    /// Keeping on past it closes the connection with 1008.
    case rateLimited = "rate_limited"
    /// The server failed; the request may or may not have taken effect.
    case internalError = "internal_error"
}
