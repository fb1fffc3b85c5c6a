import BusProtocol
import Frames

/// The `text/event-stream` format (WHATWG HTML §9.2, "Server-sent events") as bus writes it.
/// Bytes in, bytes out, no I/O.
///
/// A delivery is one event made of two parts, queued one after the other:
/// - its `data:` lines (`dataLines(of:)`): the same JSON as the WebSocket `message` envelope,
///   split into one `data:` line per line. JSON holds no raw CR or LF inside strings, only as
///   whitespace between tokens, so the browser's join of the lines with LF is the same JSON
///   value. Made once per message (`OutboundBytes.encoding(key:)`) and shared by every stream;
/// - the stream's own tail (`tail(id:)`): `id: <position>` and the blank line that dispatches
///   the event. The field order within an event does not matter to the parser.
enum EventStreamEncoding {
    /// The shared encoding's key on a message's `OutboundBytes`.
    static let key = EncodingKey(name: "sse")
    /// Longest `id:` value bus sends (the bound; browsers keep any length).
    static let maxIDLength = 256

    /// The `data:` lines of a topic message, stamped like the frame so a dropped stream can
    /// name what it lost. Binary payloads travel base64 in `binary` instead of `data`.
    static func dataLines(of frame: OutboundBytes) -> OutboundBytes {
        let stamp = frame.stamp!
        let binary = stamp.kind == .binary
        var envelope = ServerEnvelope.messagePrefix(topic: stamp.topic.string, epoch: stamp.position.epoch,
                                                    seq: stamp.position.seq, binary: binary)
        frame.withUnsafeBytes { bytes in
            let payload = UnsafeRawBufferPointer(rebasing: bytes[stamp.payload])
            if binary {
                envelope.append(UInt8(ascii: "\""))
                envelope += Base64.encode(payload).utf8
                envelope.append(UInt8(ascii: "\""))
            } else {
                envelope += payload
            }
        }
        envelope.append(ServerEnvelope.messageSuffix)
        return dataLines(envelope, stamp: stamp)
    }

    /// `data: <line>\n` for each line of `text` (split at CRLF, CR or LF, as the parser splits).
    static func dataLines(_ text: [UInt8], stamp: DeliveryStamp? = nil) -> OutboundBytes {
        // Each line break of `text` (one or two bytes) becomes the LF ending a line.
        var lines = 1
        var breakBytes = 0
        var index = 0
        while index < text.count {
            if text[index] == cr || text[index] == lf {
                lines += 1
                breakBytes += 1
                if text[index] == cr && index + 1 < text.count && text[index + 1] == lf {
                    index += 1
                    breakBytes += 1
                }
            }
            index += 1
        }
        let count = lines * (dataField.count + 1) + text.count - breakBytes
        return OutboundBytes.make(count: count, stamp: stamp) { out in
            var at = 0
            func put(_ byte: UInt8) { out[at] = byte; at += 1 }
            for byte in dataField { put(byte) }
            var index = 0
            while index < text.count {
                let byte = text[index]
                index += 1
                if byte == cr || byte == lf {
                    if byte == cr && index < text.count && text[index] == lf { index += 1 }
                    put(lf)
                    for byte in dataField { put(byte) }
                } else {
                    put(byte)
                }
            }
            put(lf)
            precondition(at == out.count, "data lines sized \(out.count), written \(at)")
        }
    }

    /// `id: <id>\n\n`: ends a delivery's event, or alone (no data) moves the browser's
    /// Last-Event-ID without dispatching anything (after the subscribe, and each heartbeat).
    static func tail(id: String) -> OutboundBytes { OutboundBytes.copying(Array("id: \(id)\n\n".utf8)) }

    /// A named event: `event: <name>`, an `id:` when given, its data lines, the blank line.
    static func event(_ name: String, id: String?, data: [UInt8]) -> [UInt8] {
        var bytes = Array("event: \(name)\n".utf8)
        if let id { bytes += Array("id: \(id)\n".utf8) }
        dataLines(data).withUnsafeBytes { bytes += $0 }
        bytes.append(lf)
        return bytes
    }

    /// `retry: <ms>`: how long the browser waits before reconnecting (no event dispatched).
    static func retry(milliseconds: Int) -> [UInt8] { Array("retry: \(milliseconds)\n\n".utf8) }

    /// What an `id:` value may be: printable ASCII (no NUL, CR or LF, which would end or void
    /// the field), at most `maxIDLength` bytes.
    static func isValidID(_ id: some Collection<UInt8>) -> Bool {
        id.count <= maxIDLength && id.allSatisfy { $0 >= 0x20 && $0 < 0x7F }
    }

    private static let cr = UInt8(ascii: "\r")
    private static let lf = UInt8(ascii: "\n")
    private static let dataField = Array("data: ".utf8)
}
