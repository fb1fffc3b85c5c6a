import Topics

/// A subscription whose client follows it by cursor (Protocol.md "Resuming a pattern"): its
/// ack carries the cursor, a `checkpoint` follows each turn it received messages in, and a
/// resume replays what history holds of it loop by loop.
///
/// The cursor names, per sequencing loop, the offset up to which the client has been sent
/// every matching message. Live, that is the loop's `heard` offset (every message from that
/// loop up to it has been fanned out here, in order); while a resume replays, loops whose
/// replay has not finished stand at what the replay has sent of them, since their live
/// messages are skipped until their replay is over (they come in its pages instead).
final class CursorSubscription {
    let pattern: TopicPattern
    /// The replay in progress, if any.
    var replay: PatternReplay?
    /// Checkpoints start after the ack.
    var acked = false
    /// It received messages this turn: a checkpoint is due at its end.
    var dirty = false

    init(pattern: TopicPattern) { self.pattern = pattern }

    /// Whether a live message from `owner` on `topic` is skipped: its loop's replay is not
    /// over, so the message is in (or still to come in) a page. Topics that keep no history
    /// are never replayed, so their live messages always pass.
    func skips(owner: Int, topic: TopicName, keepsHistory: () -> Bool) -> Bool {
        guard let replay, replay.replays, replay.pending(owner), pattern.matches(topic) else { return false }
        return keepsHistory()
    }

    /// The cursor's offsets now, given the loop's `heard` offsets.
    func offsets(heard: [UInt64]) -> [UInt64] {
        guard let replay, replay.replays else { return heard }
        return heard.indices.map { owner in
            if !replay.pending(owner) { return heard[owner] }
            return owner == replay.owner ? replay.sent : replay.from[owner]
        }
    }
}

/// A pattern resume on the subscriber's loop: first every owner loop is asked what it holds
/// since the cursor (a probe: what is lost, nothing sent), then the ack goes out, then each
/// owner's retained messages are replayed in offset order, page by page, one owner after the
/// other, each page asked for once the subscriber's queue has drained.
final class PatternReplay {
    let token: UInt64
    let session: Subscriber
    let subscription: CursorSubscription
    let requestID: [UInt8]?
    let start: PatternStart
    /// Per owner: messages above this offset are replayed.
    let from: [UInt64]
    /// Per owner: the positions the client holds of the topics it owns.
    let positions: [[TopicName: TopicPosition]]
    /// The cursor was issued by this server life with this many loops.
    let ours: Bool
    var probesLeft: Int
    var recovered: Bool
    var lost: [LostTopic] = []
    var lostCount = 0
    /// Per owner: its offset clock when it answered the probe.
    var probeClocks: [UInt64]
    /// The owner being replayed; -1 while probing; the loop count once every owner is done.
    var owner = -1
    /// The offset of the last message replayed from `owner`.
    var sent: UInt64 = 0

    init(token: UInt64, session: Subscriber, subscription: CursorSubscription, requestID: [UInt8]?, start: PatternStart,
         from: [UInt64], positions: [[TopicName: TopicPosition]], ours: Bool) {
        self.token = token
        self.session = session
        self.subscription = subscription
        self.requestID = requestID
        self.start = start
        self.from = from
        self.positions = positions
        self.ours = ours
        probesLeft = from.count
        recovered = ours
        probeClocks = Array(repeating: 0, count: from.count)
    }

    /// Whether `owner`'s replay is still to come or under way.
    func pending(_ owner: Int) -> Bool { self.owner < 0 || owner >= self.owner }

    /// False for a new subscription that only asks the owners for their clocks (`.now`).
    var replays: Bool {
        if case .now = start { return false }
        return true
    }
}

/// Where a pattern resume starts.
enum PatternStart: Sendable {
    /// After a cursor, except what the client holds of the topics in `positions`.
    case cursor(offsets: [UInt64])
    /// The newest `n` retained messages of each matching topic.
    case last(Int)
    /// Nothing: a new subscription with checkpoints, whose ack waits for every owner's clock
    /// (so its cursor is past anything that happened before it, such as a cluster gap).
    case now
}

/// A topic whose history no longer held every message a resume asked for.
struct LostTopic: Sendable {
    let topic: TopicName
    /// The oldest position it still holds (the replay of it starts there), if any.
    let earliest: TopicPosition?
}

/// Asks an owner for a probe or a page of a pattern resume.
struct PatternReplayRequest: Sendable {
    let pattern: TopicPattern
    let from: UInt64
    let last: Int?
    let positions: [TopicName: TopicPosition]
    /// The probe, not a page: report losses, send nothing.
    let probe: Bool
    /// Only the owner's clock is wanted (`PatternStart.now`).
    let clockOnly: Bool
    /// For a page: messages above this offset (the last one sent, or `from`).
    let after: UInt64
    /// For a page: the owner's clock at the probe; anything lost since is news.
    let probeClock: UInt64
    let limit: Int
    let maxBytes: Int
    let replyLoop: Int
    let token: UInt64
}

/// An owner's answer to a `PatternReplayRequest`.
struct PatternReplayPage: Sendable {
    let token: UInt64
    let owner: Int
    let frames: [OutboundBytes]
    /// The owner's offset clock when the page was cut.
    let clock: UInt64
    /// Probe: nothing asked for is lost. Page: nothing asked for was lost since the probe.
    let recovered: Bool
    /// Probe only: the topics that lost messages (at most `maxReported`), and how many did.
    let lost: [LostTopic]
    let lostCount: Int
    /// The page reaches the owner's newest matching message.
    let done: Bool

    static let maxReported = 100
}
