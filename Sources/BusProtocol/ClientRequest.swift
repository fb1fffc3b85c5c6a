/// One request from a text frame, as `EnvelopeParser` read it (Protocol.md "Text envelopes").
///
/// Raw values stay ranges into the frame they came from, so `data` is forwarded byte for
/// byte and never copied or re-encoded here; the ranges are only meaningful together with
/// those bytes. `topic` is unescaped but not yet checked against the topic rules: that is
/// the broker's job (module `Topics`), which knows the limits in force.
public struct ClientRequest: Sendable, Equatable {
    /// The three request types a client may send; the raw value is the `type` string.
    public enum Kind: String, Sendable, CaseIterable {
        case subscribe, unsubscribe, publish
    }

    /// What the client asks for; a publish always has `data`.
    public var kind: Kind
    /// The raw JSON token of `id` (a string with its quotes, or an integer), to be copied
    /// verbatim into the answering `ack` or `error`.
    public var id: Range<Int>?
    /// The topic or pattern, unescaped.
    public var topic: String
    /// The raw JSON value of `data`, whitespace trimmed; set for publishes only.
    public var data: Range<Int>?
    /// For a subscribe that resumes from history: where to start.
    public var resume: Resume?
    /// A pattern subscribe that wants its cursor in the ack and in `checkpoint` envelopes
    /// (`"checkpoints":true`; implied by a resume of a pattern).
    public var checkpoints = false

    /// Where a resuming subscribe starts (Protocol.md "History and resume").
    public enum Resume: Sendable, Equatable {
        /// Everything retained after this position (`"since":{"epoch":…,"seq":…}`).
        case since(epoch: String, seq: UInt64)
        /// The last `n` retained messages (`"last":n`); on a pattern, of each matching topic.
        case last(Int)
        /// Everything retained after a pattern subscription's cursor, except what the client
        /// already holds of the topics in `positions` (what it received after the cursor's
        /// checkpoint): `"since":{"cursor":"…","positions":[{"topic":…,"epoch":…,"seq":N}]}`.
        case cursor(Cursor, positions: [ResumePosition])
    }

    /// Most `positions` a cursor resume may carry.
    public static let maxResumePositions = 1000

    /// A request as the parser would report it (tests and other front ends build them too).
    public init(kind: Kind, id: Range<Int>? = nil, topic: String, data: Range<Int>? = nil, resume: Resume? = nil,
                checkpoints: Bool = false) {
        self.checkpoints = checkpoints
        self.kind = kind
        self.id = id
        self.topic = topic
        self.data = data
        self.resume = resume
    }
}
