import Frames

/// Builds server frames (unmasked, RFC 6455 §5.1) straight into one `OutboundBytes`:
/// header and payload share one allocation, so one queued frame is one iovec.
enum WireFrame {
    static func make(opcode: Opcode, payload: UnsafeRawBufferPointer) -> OutboundBytes {
        let headerSize = FrameEncoder.headerSize(payloadLength: payload.count, masked: false)
        return OutboundBytes.make(count: headerSize + payload.count) { destination in
            let base = destination.baseAddress!
            let written = FrameEncoder.writeHeader(opcode: opcode, fin: true, payloadLength: payload.count,
                                                   maskKey: nil, to: base)
            if let source = payload.baseAddress, payload.count > 0 {
                (base + written).copyMemory(from: source, byteCount: payload.count)
            }
        }
    }

    static func make(opcode: Opcode, payload: [UInt8]) -> OutboundBytes {
        payload.withUnsafeBytes { make(opcode: opcode, payload: $0) }
    }
}
