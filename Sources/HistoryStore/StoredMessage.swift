import Topics

/// One record of a history segment: a sequenced message as its owner loop retained it.
/// Positions and times are the owner's; the payload is the publisher's bytes (not the frame:
/// frames are rebuilt at load with `DeliveryFrame.make`, so a change of envelope never
/// invalidates a data directory).
public struct StoredMessage: Sendable, Equatable {
    /// What the record carries. `position` records keep a topic's epoch and seq when its
    /// history is off (policy of 0 messages): continuity needs the position, not the payload.
    public enum Kind: UInt8, Sendable {
        case json = 0
        case binary = 1
        case position = 2
    }

    public var topic: TopicName
    public var epoch: String
    public var seq: UInt64
    /// Wall-clock time of the publish, nanoseconds since the Unix epoch: the in-memory ages
    /// are monotonic and mean nothing after a restart.
    public var wallNanos: UInt64
    /// The owner loop's publish offset (the position a wildcard resume counts in).
    public var offset: UInt64
    public var kind: Kind
    public var payload: [UInt8]

    public init(topic: TopicName, epoch: String, seq: UInt64, wallNanos: UInt64, offset: UInt64, kind: Kind, payload: [UInt8]) {
        self.topic = topic
        self.epoch = epoch
        self.seq = seq
        self.wallNanos = wallNanos
        self.offset = offset
        self.kind = kind
        self.payload = payload
    }
}
