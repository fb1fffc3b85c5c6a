import BusProtocol
import Frames

/// Builds server frames (unmasked, RFC 6455 §5.1) straight into one `OutboundBytes`:
/// header and payload share one allocation, so one queued frame is one iovec.
enum WireFrame {
    static func make(opcode: Opcode, payload: UnsafeRawBufferPointer) -> OutboundBytes {
        make(opcode: opcode, payloadCount: payload.count) { destination in
            if let source = payload.baseAddress, payload.count > 0 { destination.copyMemory(from: source, byteCount: payload.count) }
        }
    }

    /// A frame whose `payloadCount` bytes of payload `write` puts in place (an envelope that
    /// writes itself, like `AckEnvelope`): no payload array to make and copy.
    static func make(opcode: Opcode, payloadCount: Int, write: (UnsafeMutableRawPointer) -> Void) -> OutboundBytes {
        let headerSize = FrameEncoder.headerSize(payloadLength: payloadCount, masked: false)
        return OutboundBytes.make(count: headerSize + payloadCount) { destination in
            let base = destination.baseAddress!
            let written = FrameEncoder.writeHeader(opcode: opcode, fin: true, payloadLength: payloadCount, maskKey: nil, to: base)
            write(base + written)
        }
    }

    /// An ack, written straight into its frame.
    static func make(_ ack: AckEnvelope) -> OutboundBytes {
        make(opcode: .text, payloadCount: ack.count) { ack.write(to: $0) }
    }

    static func make(opcode: Opcode, payload: [UInt8]) -> OutboundBytes {
        payload.withUnsafeBytes { make(opcode: opcode, payload: $0) }
    }

    /// `frame` (a whole unmasked frame, as `make` builds) with its payload compressed for
    /// permessage-deflate (RFC 7692 §7.2.1) and RSV1 set on it (§6), keeping the frame's stamp
    /// (a slow consumer's notice reads it); nil when the compressed frame would not be smaller.
    static func compressing(_ frame: OutboundBytes, with deflater: Deflater) -> OutboundBytes? {
        frame.withUnsafeBytes { bytes -> OutboundBytes? in
            guard bytes.count >= 2 else { return nil }
            let first = bytes[0]
            let headerSize = switch bytes[1] & 0x7F {
            case 126: 4
            case 127: 10
            default: 2
            }
            let payload = UnsafeRawBufferPointer(rebasing: bytes[headerSize...])
            // A payload smaller than the plain one never needs a longer header.
            guard payload.count > 1, let compressed = deflater.compress(payload, maxCount: payload.count - 1) else { return nil }
            let header = FrameEncoder.headerSize(payloadLength: compressed.count, masked: false)
            return OutboundBytes.make(count: header + compressed.count, stamp: frame.stamp) { destination in
                let base = destination.baseAddress!
                let written = FrameEncoder.writeHeader(opcode: Opcode(rawValue: first & 0x0F)!, fin: first & 0x80 != 0,
                                                       payloadLength: compressed.count, maskKey: nil, to: base)
                base.storeBytes(of: first | 0x40, as: UInt8.self)  // RSV1: "compressed" (§6)
                (base + written).copyMemory(from: compressed.baseAddress!, byteCount: compressed.count)
            }
        }
    }
}
