import BusProtocol
import Frames
import Topics

/// Encodes one topic message as the WebSocket frame every subscriber receives: a text
/// `message` envelope around the publisher's raw JSON, or a binary message header before the
/// raw bytes. Built once per publish by the topic's owner, then shared.
enum DeliveryFrame {
    static func make(kind: PayloadKind, topic: TopicName, position: TopicPosition, payload: UnsafeRawBufferPointer,
                     arrival: UInt64, owner: Int = 0, offset: UInt64 = 0) -> OutboundBytes {
        switch kind {
        case .json:
            let prefix = ServerEnvelope.messagePrefix(topic: topic.string, epoch: position.epoch, seq: position.seq)
            let length = prefix.count + payload.count + 1
            let header = FrameEncoder.headerSize(payloadLength: length, masked: false)
            let start = header + prefix.count
            let stamp = DeliveryStamp(topic: topic, position: position, kind: kind, payload: start..<(start + payload.count), arrival: arrival,
                                      owner: owner, offset: offset)
            return OutboundBytes.make(count: header + length, stamp: stamp) { destination in
                var at = destination.baseAddress!
                at += FrameEncoder.writeHeader(opcode: .text, fin: true, payloadLength: length, maskKey: nil, to: at)
                prefix.withUnsafeBytes { at.copyMemory(from: $0.baseAddress!, byteCount: $0.count) }
                at += prefix.count
                if payload.count > 0 { at.copyMemory(from: payload.baseAddress!, byteCount: payload.count) }
                at += payload.count
                at.storeBytes(of: ServerEnvelope.messageSuffix, as: UInt8.self)
            }
        case .binary:
            let headerLength = BinaryLayout.messageHeaderSize(epochLength: position.epoch.utf8.count, topicLength: topic.utf8Count)
            let length = headerLength + payload.count
            let header = FrameEncoder.headerSize(payloadLength: length, masked: false)
            let start = header + headerLength
            let stamp = DeliveryStamp(topic: topic, position: position, kind: kind, payload: start..<(start + payload.count), arrival: arrival,
                                      owner: owner, offset: offset)
            return OutboundBytes.make(count: header + length, stamp: stamp) { destination in
                var at = destination.baseAddress!
                at += FrameEncoder.writeHeader(opcode: .binary, fin: true, payloadLength: length, maskKey: nil, to: at)
                at += BinaryLayout.writeMessageHeader(epoch: position.epoch, seq: position.seq, topic: topic.string, to: at)
                if payload.count > 0 { at.copyMemory(from: payload.baseAddress!, byteCount: payload.count) }
            }
        }
    }
}
