/// One operation a NATS server sends (https://docs.nats.io/reference/reference-protocols/nats-protocol).
public enum NATSOperation: Equatable, Sendable {
    case info(NATSInfo)
    /// `MSG` or `HMSG`: `headers` holds the raw header block (`NATS/1.0\r\n...\r\n\r\n`) of an `HMSG`.
    case message(NATSMessage)
    case ping
    case pong
    case ok
    case err(String)
}

/// A message delivered on one of our subscriptions.
public struct NATSMessage: Equatable, Sendable {
    /// The subject as text, for logs; bytes that are not UTF-8 show as U+FFFD.
    public let subject: String
    /// The subject exactly as the server sent it. NATS does not require UTF-8, so a topic is
    /// made from these bytes (and validated as bytes), never from the repaired `subject`.
    public let subjectBytes: [UInt8]
    public let sid: UInt64
    public let replyTo: String?
    public let headers: [UInt8]?
    public let payload: [UInt8]

    public init(subject: String, sid: UInt64, replyTo: String? = nil, headers: [UInt8]? = nil, payload: [UInt8]) {
        self.init(subjectBytes: Array(subject.utf8), sid: sid, replyTo: replyTo, headers: headers, payload: payload)
    }

    public init(subjectBytes: [UInt8], sid: UInt64, replyTo: String? = nil, headers: [UInt8]? = nil, payload: [UInt8]) {
        self.subject = String(decoding: subjectBytes, as: UTF8.self)
        self.subjectBytes = subjectBytes
        self.sid = sid
        self.replyTo = replyTo
        self.headers = headers
        self.payload = payload
    }
}

/// The fields of `INFO` we use; the rest of its JSON is ignored.
public struct NATSInfo: Equatable, Sendable {
    /// The largest payload (headers included) the server accepts in one `PUB`/`HPUB`.
    public let maxPayload: Int
    public let headers: Bool
    public let serverName: String?

    public init(maxPayload: Int, headers: Bool, serverName: String?) {
        self.maxPayload = maxPayload
        self.headers = headers
        self.serverName = serverName
    }
}

/// Why the byte stream from the server cannot be read further; the connection must be dropped.
public enum NATSProtocolError: Error, Equatable, Sendable {
    case controlLineTooLong(max: Int)
    case unknownOperation(String)
    case malformed(String)
    case payloadTooLarge(size: Int, max: Int)
}
