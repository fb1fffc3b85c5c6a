import Frames

extension Connection {
    /// Why the server stopped reading a connection (each lifted on its own).
    struct ReadPauses: OptionSet {
        let rawValue: UInt8
        /// The loops are saturated and this connection publishes (see `LoopInbox`).
        static let throttled = ReadPauses(rawValue: 1)
        /// Half its send queue is waiting: it asks faster than it reads. Lifted when the
        /// queue has drained to a quarter.
        static let backlogged = ReadPauses(rawValue: 2)
        /// An HTTP reply waits for other loops (a publish's outcome, a history page, a scrape).
        static let awaitingReply = ReadPauses(rawValue: 4)
    }
}

/// A connection's WebSocket phase: the frame decoder, the service its messages go to, and the
/// WebSocket's own deadlines.
struct WebSocketState {
    var decoder: FrameDecoder?
    /// The LZ77 window the client agreed for our compressed frames (permessage-deflate, RFC
    /// 7692); 0 when the extension was not negotiated.
    var deflateWindowBits: UInt8 = 0
    /// Where the messages go (the protocol spoken over the socket).
    var service: WebSocketService?
    /// Loop time at which the token presented with the upgrade expires (close 1008).
    var authExpiry: UInt64?
    var nextPing: UInt64 = 0
}
