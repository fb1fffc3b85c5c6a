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
        var prefix = "{\"topic\":\(JSONText.quoted(topic.string)),\"epoch\":\(JSONText.quoted(page.position.epoch))"
            + ",\"seq\":\(page.position.seq),\"recovered\":\(page.recovered)"
        if let earliest = page.earliest {
            prefix += ",\"earliest\":{\"epoch\":\(JSONText.quoted(earliest.epoch)),\"seq\":\(earliest.seq)}"
        }
        // `more`: the page stops before the topic's newest message; ask again with `since`.
        prefix += ",\"more\":\(!page.done),\"messages\":["
        let messages = page.frames.filter { $0.stamp != nil }
        var bodySize = prefix.utf8.count + 3  // `]}\n`
        for (index, frame) in messages.enumerated() {
            let stamp = frame.stamp!
            bodySize += (index > 0 ? 1 : 0) + 7 + decimalLength(stamp.position.seq) + 1  // {"seq":N,
            switch stamp.kind {
            case .json: bodySize += 7 + stamp.payload.count  // "data":
            case .binary: bodySize += 11 + (stamp.payload.count + 2) / 3 * 4  // "binary":"…"
            }
            bodySize += 1  // }
        }
        let head = HTTPResponseHead.simple(.ok, body: "", contentType: "application/json", keepAlive: true,
                                           contentLength: bodySize)
        return OutboundBytes.make(count: head.count + bodySize) { buffer in
            var out = ByteCursor(buffer)
            out.append(head)
            out.append(Array(prefix.utf8))
            for (index, frame) in messages.enumerated() {
                let stamp = frame.stamp!
                if index > 0 { out.append(UInt8(ascii: ",")) }
                out.append(Array("{\"seq\":\(stamp.position.seq),".utf8))
                frame.withUnsafeBytes { bytes in
                    let payload = UnsafeRawBufferPointer(rebasing: bytes[stamp.payload])
                    switch stamp.kind {
                    case .json:
                        out.append(Array("\"data\":".utf8))
                        out.append(payload)
                    case .binary:
                        out.append(Array("\"binary\":\"".utf8))
                        out.append(Array(Base64.encode(payload).utf8))
                        out.append(UInt8(ascii: "\""))
                    }
                }
                out.append(UInt8(ascii: "}"))
            }
            out.append(Array("]}\n".utf8))
            precondition(out.written == buffer.count, "history answer sized \(buffer.count), written \(out.written)")
        }
    }

    static func decimalLength(_ value: UInt64) -> Int {
        var length = 1
        var rest = value
        while rest >= 10 { rest /= 10; length += 1 }
        return length
    }
}

/// Appends bytes into a buffer sized beforehand.
private struct ByteCursor {
    let buffer: UnsafeMutableRawBufferPointer
    private(set) var written = 0

    init(_ buffer: UnsafeMutableRawBufferPointer) { self.buffer = buffer }

    mutating func append(_ byte: UInt8) {
        buffer[written] = byte
        written += 1
    }

    mutating func append(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { append($0) }
    }

    mutating func append(_ bytes: UnsafeRawBufferPointer) {
        guard !bytes.isEmpty else { return }
        UnsafeMutableRawBufferPointer(rebasing: buffer[written..<(written + bytes.count)]).copyMemory(from: bytes)
        written += bytes.count
    }
}
