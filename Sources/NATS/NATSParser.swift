import BusProtocol
/// Incremental parser for what a NATS server sends: feed it whatever `read` returned (an
/// operation split anywhere, or many packed together) and it returns every operation completed
/// so far, keeping the unfinished tail for the next feed.
///
/// Bounded like the server bounds us: a control line longer than `maxControlLine` or a payload
/// larger than `maxPayload` (from `INFO`, with slack for headers) is an error, so a broken or
/// hostile peer cannot make us buffer without limit.
public struct NATSParser: Sendable {
    /// nats-server's own default `max_control_line` is 4 KiB.
    public static let defaultMaxControlLine = 4096

    public let maxControlLine: Int
    /// The largest `MSG`/`HMSG` body accepted; set from `INFO`'s `max_payload`.
    public var maxPayload: Int
    private var buffer: [UInt8] = []
    private var start = 0

    public init(maxControlLine: Int = defaultMaxControlLine, maxPayload: Int = 64 << 20) {
        self.maxControlLine = maxControlLine
        self.maxPayload = maxPayload
    }

    /// Bytes held for an unfinished operation.
    public var bufferedByteCount: Int { buffer.count - start }

    /// Forgets any partial operation (the connection was replaced).
    public mutating func reset() {
        buffer.removeAll(keepingCapacity: true)
        start = 0
    }

    public mutating func feed(_ bytes: some Sequence<UInt8>) throws(NATSProtocolError) -> [NATSOperation] {
        buffer.append(contentsOf: bytes)
        var operations: [NATSOperation] = []
        defer { compact() }
        while let operation = try next() { operations.append(operation) }
        return operations
    }

    private mutating func compact() {
        if start == buffer.count {
            buffer.removeAll(keepingCapacity: true)
        } else if start > 0 {
            buffer.removeFirst(start)
        }
        start = 0
    }

    /// The next complete operation, or nil when more bytes are needed.
    private mutating func next() throws(NATSProtocolError) -> NATSOperation? {
        guard let lineEnd = findLineEnd() else {
            if buffer.count - start > maxControlLine { throw .controlLineTooLong(max: maxControlLine) }
            return nil
        }
        if lineEnd - start > maxControlLine { throw .controlLineTooLong(max: maxControlLine) }
        let line = String(decoding: buffer[start..<lineEnd], as: UTF8.self)
        let bodyStart = lineEnd + 2
        let (verb, rest) = Self.split(line)
        switch verb.uppercased() {
        case "PING": start = bodyStart; return .ping
        case "PONG": start = bodyStart; return .pong
        case "+OK": start = bodyStart; return .ok
        case "-ERR":
            start = bodyStart
            var text = rest.trimmingWhitespace
            if text.first == "'" && text.last == "'" && text.count >= 2 { text = text.dropFirst().dropLast() }
            return .err(String(text))
        case "INFO":
            start = bodyStart
            let info = NATSInfoParser.parse(String(rest))
            return .info(info)
        case "MSG":
            let args = rest.split(separator: " ", omittingEmptySubsequences: true)
            guard args.count == 3 || args.count == 4, let sid = UInt64(args[1]), let size = Int(args[args.count - 1]),
                  size >= 0 else { throw .malformed("MSG " + rest) }
            return try body(at: bodyStart, size: size, headerSize: nil, subject: args[0], sid: sid,
                            replyTo: args.count == 4 ? args[2] : nil)
        case "HMSG":
            let args = rest.split(separator: " ", omittingEmptySubsequences: true)
            guard args.count == 4 || args.count == 5, let sid = UInt64(args[1]),
                  let headerSize = Int(args[args.count - 2]), let size = Int(args[args.count - 1]),
                  headerSize >= 0, headerSize <= size else { throw .malformed("HMSG " + rest) }
            return try body(at: bodyStart, size: size, headerSize: headerSize, subject: args[0], sid: sid,
                            replyTo: args.count == 5 ? args[2] : nil)
        default:
            throw .unknownOperation(String(verb.prefix(16)))
        }
    }

    /// A message's body (headers then payload, then CRLF) once it has fully arrived.
    private mutating func body(at bodyStart: Int, size: Int, headerSize: Int?, subject: Substring, sid: UInt64,
                               replyTo: Substring?) throws(NATSProtocolError) -> NATSOperation? {
        if size > maxPayload { throw .payloadTooLarge(size: size, max: maxPayload) }
        let end = bodyStart + size
        guard buffer.count >= end + 2 else { return nil }
        guard buffer[end] == 13 && buffer[end + 1] == 10 else { throw .malformed("message body not followed by CRLF") }
        let payloadStart = bodyStart + (headerSize ?? 0)
        // The subject's own bytes: `subject` comes from the line decoded with U+FFFD repair.
        let fields = buffer[start..<bodyStart].split(whereSeparator: { $0 == 0x20 || $0 == 0x09 || $0 == 0x0D || $0 == 0x0A })
        let message = NATSMessage(subjectBytes: fields.count > 1 ? Array(fields[1]) : Array(subject.utf8), sid: sid,
                                  replyTo: replyTo.map(String.init),
                                  headers: headerSize.map { Array(buffer[bodyStart..<(bodyStart + $0)]) },
                                  payload: Array(buffer[payloadStart..<end]))
        start = end + 2
        return .message(message)
    }

    private func findLineEnd() -> Int? {
        var i = start
        while i + 1 < buffer.count {
            if buffer[i] == 13 && buffer[i + 1] == 10 { return i }
            i += 1
        }
        return nil
    }

    /// The verb and the rest of a control line (tabs count as spaces, as for the server).
    private static func split(_ line: String) -> (Substring, Substring) {
        let normalised = line.contains("\t") ? line.replacingTabs : line
        let trimmed = Substring(normalised).trimmingWhitespace
        guard let space = trimmed.firstIndex(of: " ") else { return (trimmed, "") }
        return (trimmed[..<space], trimmed[trimmed.index(after: space)...].trimmingWhitespace)
    }
}

extension String {
    var replacingTabs: String { String(map { $0 == "\t" ? " " : $0 }) }
}
