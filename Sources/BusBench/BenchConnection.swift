import Frames

/// One client WebSocket driven by a `ClientLoop`: non-blocking connect, the opening handshake
/// (`ClientHandshake` + `HTTPResponseParser`), then frames through `FrameDecoder`. Pings are
/// answered and a server close is echoed here; everything else goes to the loop's delegate.
/// The counters at the end are the scenarios' bookkeeping, kept on the connection so the hot
/// path needs no lookup.
final class BenchConnection {
    enum State {
        case connecting
        case handshaking
        case open
        /// A close frame was sent or received; waiting for the TCP end.
        case closing
        case closed
    }

    let id: UInt64
    let fd: Int32
    var state = State.connecting
    let handshake: ClientHandshake
    var responseParser = HTTPResponseParser()
    var decoder = FrameDecoder(role: .client, maxMessageSize: 16 << 20)
    /// Bytes not yet accepted by the kernel, from `outboundOffset` on.
    var outbound: [UInt8] = []
    var outboundOffset = 0
    /// False while the scenario wants this connection to stop reading (a stalled subscriber).
    var reading = true
    /// The epoll interest currently registered, to skip needless `epoll_ctl` calls.
    var registeredEvents: UInt32 = 0
    var isDirty = false

    // Scenario bookkeeping.
    /// Which subscriber, topic or publisher this is, as the scenario numbers them.
    var tag = 0
    /// The pattern to subscribe to as soon as the handshake completes; nil for a publisher.
    var subscribeTo: String?
    var subscribeAcked = false
    var received = 0
    var lastSeq: UInt64 = 0
    /// Deliveries whose `seq` was not the previous one plus one (a gap or a reorder).
    var seqBreaks = 0
    var startedAt: UInt64 = 0
    var openedAt: UInt64 = 0
    /// The close code the server sent, if it sent one.
    var closeCode: UInt16?
    var closeWhy = ""
    /// Set when a `slow_consumer` error envelope arrived (its text, for the report).
    var slowConsumerError: String?

    init(id: UInt64, fd: Int32, handshake: ClientHandshake) {
        self.id = id
        self.fd = fd
        self.handshake = handshake
    }

    var hasOutbound: Bool { outboundOffset < outbound.count }

    /// Counts a delivery's sequence number; true when it followed the previous one.
    @inline(__always)
    func noteSeq(_ seq: UInt64) {
        if lastSeq != 0 && seq != lastSeq &+ 1 { seqBreaks += 1 }
        lastSeq = seq
        received += 1
    }
}
