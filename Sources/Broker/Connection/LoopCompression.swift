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
    /// The compressed frame is made once per message and window size, by whichever loop asks
    /// first, and shared by every subscriber (`OutboundBytes.encoding`).
    @inline(__always)
    func wireEncoding(of frame: OutboundBytes) -> OutboundBytes {
        guard webSocket.deflateWindowBits != 0, frame.count >= loop.compression.minFrameBytes else { return frame }
        return compressed(frame, windowBits: Int(webSocket.deflateWindowBits))
    }

    private func compressed(_ frame: OutboundBytes, windowBits: Int) -> OutboundBytes {
        let loop = self.loop
        let made = frame.encoding(LoopCompression.key(windowBits: windowBits)) {
            if let topic = frame.stamp?.topic, loop.compression.excluded.contains(where: { $0.matches(topic) }) {
                loop.metrics.compressionSkipped &+= 1
                return LoopCompression.plain
            }
            let start = Sys.monotonicNanos()
            let result = WireFrame.compressing(frame, with: loop.compression.deflater(windowBits: windowBits))
            loop.metrics.compressionNanos &+= Sys.monotonicNanos() &- start
            guard let result else {
                loop.metrics.compressionSkipped &+= 1
                return LoopCompression.plain
            }
            loop.metrics.compressedMessages &+= 1
            return result
        }
        if made === LoopCompression.plain { return frame }
        loop.metrics.compressionSavedBytes &+= UInt64(frame.count - made.count)
        return made
    }
}
