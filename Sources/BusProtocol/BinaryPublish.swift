/// A binary publish frame's parts, as ranges into the frame (Protocol.md "binary publish").
///
/// The payload is never copied here: the broker slices it out of the frame it already holds.
public struct BinaryPublish: Sendable, Equatable {
    /// The id's raw UTF-8 bytes (1–64, checked), when flag bit 0 was set. The ack echoes
    /// it as a JSON string.
    public var id: Range<Int>?
    /// The topic's raw bytes (1–65535, not yet checked against the topic rules or UTF-8:
    /// the broker's `Topics` module does both with the limits in force).
    public var topic: Range<Int>
    /// Everything after the header; may be empty.
    public var payload: Range<Int>

    /// Ranges into the frame the header was read from.
    public init(id: Range<Int>?, topic: Range<Int>, payload: Range<Int>) {
        self.id = id
        self.topic = topic
        self.payload = payload
    }
}
