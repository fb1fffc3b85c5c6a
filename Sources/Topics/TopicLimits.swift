/// Bounds on a topic's size, checked while validating.
///
/// The defaults follow the NATS subject guidance ("a maximum of 16 tokens and the subject
/// length to less than 256 characters", docs.nats.io, Subject-Based Messaging), so every
/// topic we accept maps onto a NATS subject unchanged. They also bound our own costs: the
/// length bounds a match-cache key (at most 256 bytes per cached topic), the depth bounds how far a
/// match walks and how many `*` branches it can fork into.
public struct TopicLimits: Hashable, Sendable {
    /// Maximum size in UTF-8 bytes (not characters: bytes are what travel and what we store).
    public var maxLength: Int
    /// Maximum number of dot-separated segments.
    public var maxDepth: Int

    public init(maxLength: Int = 256, maxDepth: Int = 16) {
        self.maxLength = maxLength
        self.maxDepth = maxDepth
    }

    public static let `default` = TopicLimits()
}
