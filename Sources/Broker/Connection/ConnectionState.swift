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
///
/// Between messages the decoder holds nothing a fresh one lacks, so none is kept: each read
/// decodes with a new one on the stack (`Connection.consumeFrames`), and only a frame or
/// message cut by the end of a read keeps its decoder, in `partial`, until it completes.
struct WebSocketState {
    /// The decoder of a frame or fragmented message still arriving; nil between messages.
    var partial: PartialFrame?
    /// Where the messages go (the protocol spoken over the socket).
    var service: WebSocketService?
    /// Loop time at which the token presented with the upgrade expires (close 1008).
    var authExpiry: UInt64?
    var nextPing: UInt64 = 0
    /// Frames are read: open, or closing politely (not after a protocol error).
    var decoding = false
    /// permessage-deflate was agreed: the decoder inflates with the loop's shared inflater.
    var inflates = false
    /// The LZ77 window the client agreed for our compressed frames (permessage-deflate, RFC
    /// 7692); 0 when the extension was not negotiated.
    var deflateWindowBits: UInt8 = 0

    /// Lets go of a partial frame; returns the bytes it held (the loop's reassembly count).
    mutating func dropPartialFrame() -> Int {
        guard let partial else { return 0 }
        self.partial = nil
        return partial.decoder.bufferedByteCount
    }
}

/// A decoder in the middle of a frame or message, kept between reads (see `WebSocketState`).
final class PartialFrame {
    var decoder: FrameDecoder
    init(_ decoder: FrameDecoder) { self.decoder = decoder }
}
