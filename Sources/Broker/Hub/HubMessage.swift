import Topics

/// Where a topic position stands: the owner's epoch and last sequence number.
public struct TopicPosition: Sendable, Equatable {
    public let epoch: String
    public let seq: UInt64
}

/// What a published payload is, which decides how subscribers receive it.
enum PayloadKind: Sendable {
    /// Raw JSON (validated), delivered as the `data` of a text `message` envelope.
    case json
    /// Opaque bytes, delivered in a binary message frame.
    case binary
}

/// Who published, so the owner can answer: the loop and connection, and the request's id.
struct PublishOrigin: Sendable {
    let loop: Int
    let connection: UInt64
    /// The request's raw JSON id token; nil for publishes that want no ack.
    let requestID: [UInt8]?
    /// HTTP publishes always want the outcome, id or not.
    let wantsOutcome: Bool
    /// Monotonic time of the loop turn that read the publish: the start of its delivery latency.
    let arrival: UInt64
    /// Came from another node through NATS: sequenced and delivered here, never sent back.
    var fromBackplane = false
}

/// The owner's answer to a publish.
struct PublishOutcome: Sendable {
    let topic: TopicName
    let position: TopicPosition
    let subscribers: Int
}

/// One published message on its way to the topic's owner loop (the payload copied out of the
/// publisher's read buffer, once).
struct PublishRequest: Sendable {
    let topic: TopicName
    let kind: PayloadKind
    let payload: [UInt8]
    let origin: PublishOrigin
}

/// A loop's change of interest in a pattern, sent to the loops that may own matching topics.
struct InterestUpdate: Sendable {
    let pattern: TopicPattern
    let loop: Int
    /// Local subscriptions to the pattern on `loop`; 0 withdraws the interest.
    let count: Int
    /// The permessage-deflate windows (bit n: an n-bit window) some of those subscriptions
    /// negotiated: their owner compresses each message for them once, at publish.
    let deflateWindows: UInt16
    /// Non-zero when the sender waits for `interestApplied` (a first subscriber's ack).
    let token: UInt64
}

/// Messages between the hubs of one process's loops. Everything is immutable; frames are
/// shared `OutboundBytes`, never copied per loop or per subscriber.
enum HubMessage: Sendable {
    case publish(PublishRequest)
    /// A sequenced message for the loop to fan out to its subscribers.
    case fanOut(frame: OutboundBytes, topic: TopicName)
    case interest(InterestUpdate)
    /// The reply to an interest update with a token; `position` for a literal pattern's owner;
    /// `clock`, the replying loop's offset clock then (see `LoopHub.heard`).
    case interestApplied(token: UInt64, position: TopicPosition?, owner: Int, clock: UInt64)
    /// Asks a topic's owner for its position (a subscribe ack on an already-active literal).
    case position(topic: TopicName, replyLoop: Int, token: UInt64)
    case positionReply(token: UInt64, position: TopicPosition)
    case published(connection: UInt64, requestID: [UInt8]?, outcome: PublishOutcome)
    /// Asks a topic's owner for a page of its history (a resume, or GET /history).
    case replay(ReplayRequest)
    case replayPage(ReplayPage)
    /// A pattern resume's probe or page request, and the owner's answer.
    case patternReplay(PatternReplayRequest)
    case patternPage(PatternReplayPage)
    /// To loop 0 (cluster mode): a loop's first subscriber to a pattern (`add`, answered with
    /// `interestApplied(token)` once NATS has the SUB) or its last leaving.
    case backplaneInterest(pattern: TopicPattern, loop: Int, token: UInt64, add: Bool)
    /// To loop 0: a sequenced local publish, encoded for NATS by its owner loop.
    case backplanePublish([UInt8])
    /// The backplane went down or came back: topics with subscribers start a new epoch.
    case backplaneEpoch
    /// From loop 0: the node took NATS interest in a pattern it did not hold.
    case backplaneRegained(TopicPattern)
    /// To a message's owner: another encoding of it (`bytes` long) was made, which its
    /// history keeps with it while it holds the message (`HistoryLedger.charge`).
    case encodingMade(frame: OutboundBytes, bytes: Int)
}

/// Where a replay starts.
enum ReplayStart: Sendable, Equatable {
    /// Everything after a position the client holds (resume).
    case since(epoch: String, seq: UInt64)
    /// The last n messages.
    case last(Int)
    /// The next page of a replay in progress: seq and up, in the replay's epoch.
    case from(epoch: String, seq: UInt64)
}

struct ReplayRequest: Sendable {
    let topic: TopicName
    let start: ReplayStart
    let limit: Int
    /// Frames' bytes per page, at most (a page holds at least one message).
    let maxBytes: Int
    let replyLoop: Int
    let token: UInt64
}

/// A page of retained frames and where the topic stood when it was cut.
struct ReplayPage: Sendable {
    let token: UInt64
    let frames: [OutboundBytes]
    /// The topic's position (epoch and last seq) when the page was cut: live messages above
    /// it follow the page on the same owner→loop path.
    let position: TopicPosition
    /// True when every message after the requested position is in this page or the ones
    /// before it; false when history no longer held some (or the epoch changed).
    let recovered: Bool
    /// The oldest retained position, when history holds anything.
    let earliest: TopicPosition?
    /// True when the page reaches `position`: the replay is over.
    let done: Bool
}
