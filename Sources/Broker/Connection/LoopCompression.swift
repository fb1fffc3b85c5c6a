import Frames
import Topics

/// One loop's permessage-deflate machinery (RFC 7692). Every connection of the loop that
/// negotiated the extension shares it: that is what `server_no_context_takeover` and
/// `client_no_context_takeover`, which the server always answers, buy.
///
/// - One `Inflater`, reset per message: a compressed message is inflated whole within one
///   decoder call, so no connection's state is left in it between calls (32 KiB of window
///   and 7 KiB of state per loop instead of per publishing connection).
/// - One `Deflater` per window size asked for (9–15 bits), made on first use.
///
/// Loop-bound, hence not Sendable.
final class LoopCompression {
    let enabled: Bool
    /// Frames shorter than this (header included) are sent as they are.
    let minFrameBytes: Int
    let excluded: [TopicPattern]
    let inflater = Inflater()
    private var deflaters: [Deflater?] = Array(repeating: nil, count: 16)

    /// Stored as a message's encoding when compressing it did not pay (or its topic is
    /// excluded), so no other loop or subscriber tries again; never sent.
    static let plain = OutboundBytes.copying([UInt8]())

    init(config: ServerConfig) {
        enabled = config.compression
        minFrameBytes = max(config.compressionMinBytes, 1)
        excluded = config.compressionExclude
    }

    func deflater(windowBits: Int) -> Deflater {
        if let known = deflaters[windowBits] { return known }
        let made = Deflater(windowBits: windowBits)
        deflaters[windowBits] = made
        return made
    }

    /// The encoding key of a frame compressed with a `windowBits` window.
    static func key(windowBits: Int) -> EncodingKey { EncodingKey(name: "deflate", parameter: windowBits) }
}

@available(*, unavailable)
extension LoopCompression: Sendable {}

extension Connection {
    /// The server's answer to the upgrade's permessage-deflate offers, when compression is on;
    /// offers it cannot honour are declined (and logged), never failing the handshake.
    func negotiateCompression(_ upgrade: UpgradeRequest) -> PerMessageDeflate.Negotiation? {
        guard loop.compression.enabled, !upgrade.extensionHeaders.isEmpty else { return nil }
        let negotiation = PerMessageDeflate.negotiate(upgrade.extensionHeaders)
        if !negotiation.declined.isEmpty {
            log.info("permessage-deflate offer declined", peerFields + [("reasons", negotiation.declined.joined(separator: "; ")),
                                                                        ("accepted", negotiation.agreement == nil ? "none" : "a later offer")])
        }
        return negotiation
    }

    /// The bytes this connection sends for `frame`: the frame compressed for its window when
    /// it negotiated permessage-deflate and the frame is worth it, else the frame itself.
    /// A topic message's owner usually compressed it already, at publish, for the windows of
    /// the subscribers its interest names (`LoopHub.precompress`); otherwise (a replay of
    /// older history, a subscriber newer than the publish, /echo) it is made here, once per
    /// message and window size, and shared by every subscriber (`OutboundBytes.encoding`).
    @inline(__always)
    func wireEncoding(of frame: OutboundBytes) -> OutboundBytes {
        guard webSocket.deflateWindowBits != 0, frame.count >= loop.compression.minFrameBytes else { return frame }
        guard let made = loop.compressedEncoding(of: frame, windowBits: Int(webSocket.deflateWindowBits)) else { return frame }
        loop.metrics.compressionSavedBytes &+= UInt64(frame.count - made.count)
        return made
    }
}

extension EventLoop {
    /// `frame` compressed for a `windowBits` window, made by whichever loop asks first and
    /// shared by every loop after it; nil when it is not worth sending compressed (excluded
    /// topic, or no smaller). The bytes a topic message's copy adds to what history keeps
    /// are charged to its owner's budget (`LoopHub.chargeEncoding`).
    func compressedEncoding(of frame: OutboundBytes, windowBits: Int) -> OutboundBytes? {
        let made = frame.encoding(LoopCompression.key(windowBits: windowBits)) {
            if let topic = frame.stamp?.topic, compression.excluded.contains(where: { $0.matches(topic) }) {
                metrics.compressionSkipped &+= 1
                return LoopCompression.plain
            }
            let start = Sys.monotonicNanos()
            let result = WireFrame.compressing(frame, with: compression.deflater(windowBits: windowBits))
            metrics.compressionNanos &+= Sys.monotonicNanos() &- start
            guard let result else {
                metrics.compressionSkipped &+= 1
                return LoopCompression.plain
            }
            metrics.compressedMessages &+= 1
            hub.chargeEncoding(of: frame, bytes: result.count)
            return result
        }
        return made === LoopCompression.plain ? nil : made
    }
}
