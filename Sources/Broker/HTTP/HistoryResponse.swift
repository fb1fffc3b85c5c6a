import BusProtocol
import Frames
import Topics

/// The answer to `GET /history/<topic>`: one JSON object with the topic's position, whether
/// recovery was complete, and the page's messages, payloads copied out of their frames.
///
/// Written straight into the bytes that are queued (sized first, then filled), so a large
/// page costs its answer once, not a string, an array and a copy of each.
enum HistoryResponse {
    static func make(_ page: ReplayPage, topic: TopicName) -> OutboundBytes {
        let prefix = HTTPBody.historyPrefix(topic: topic.string, epoch: page.position.epoch, seq: page.position.seq,
                                            recovered: page.recovered, earliest: page.earliest.map { ($0.epoch, $0.seq) },
                                            more: !page.done)
        let messages = page.frames.compactMap { frame in frame.stamp.map { (frame, $0) } }
        var bodySize = prefix.count + HTTPBody.historySuffix.count
        for (index, (_, stamp)) in messages.enumerated() {
            let binary = stamp.kind == .binary
            bodySize += HTTPBody.historyMessagePrefix(seq: stamp.position.seq, binary: binary, first: index == 0).count
            bodySize += binary ? (stamp.payload.count + 2) / 3 * 4 : stamp.payload.count
            bodySize += HTTPBody.historyMessageSuffix(binary: binary).count
        }
        let head = HTTPResponseHead.simple(.ok, body: "", contentType: "application/json", keepAlive: true,
                                           contentLength: bodySize)
        return OutboundBytes.make(count: head.count + bodySize) { buffer in
            var out = ByteCursor(buffer)
            out.append(head)
            out.append(prefix)
            for (index, (frame, stamp)) in messages.enumerated() {
                let binary = stamp.kind == .binary
                out.append(HTTPBody.historyMessagePrefix(seq: stamp.position.seq, binary: binary, first: index == 0))
                frame.withUnsafeBytes { bytes in
                    let payload = UnsafeRawBufferPointer(rebasing: bytes[stamp.payload])
                    if binary { out.append(Array(Base64.encode(payload).utf8)) } else { out.append(payload) }
                }
                out.append(HTTPBody.historyMessageSuffix(binary: binary))
            }
            out.append(HTTPBody.historySuffix)
            precondition(out.written == buffer.count, "history answer sized \(buffer.count), written \(out.written)")
        }
    }
}

/// Appends bytes into a buffer sized beforehand.
private struct ByteCursor {
    let buffer: UnsafeMutableRawBufferPointer
    private(set) var written = 0

    init(_ buffer: UnsafeMutableRawBufferPointer) { self.buffer = buffer }

    mutating func append(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { append($0) }
    }

    mutating func append(_ bytes: UnsafeRawBufferPointer) {
        guard !bytes.isEmpty else { return }
        UnsafeMutableRawBufferPointer(rebasing: buffer[written..<(written + bytes.count)]).copyMemory(from: bytes)
        written += bytes.count
    }
}
