/// A request the broker refuses before acting on it, with everything the error envelope
/// needs (Protocol.md "error"): the stable code, a human message, and the id and topic to
/// echo when the request had them and they could be read.
public struct RequestError: Error, Sendable, Equatable {
    /// The stable code clients match on.
    public var code: ErrorCode
    /// Short and human; clients must not match on it.
    public var message: String
    /// The request's id, as a range into the bytes that were parsed. For a text frame it is
    /// the raw JSON token (quotes included for a string) and is echoed verbatim; for a binary
    /// publish it is the raw UTF-8 id, to be echoed as a JSON string
    /// (`JSONText.appendQuoted(utf8:to:)`). Nil when absent or itself invalid.
    public var id: Range<Int>?
    /// The request's topic, unescaped, when one was read.
    public var topic: String?

    /// An error with whatever of id and topic could be read from the request.
    public init(code: ErrorCode, message: String, id: Range<Int>? = nil, topic: String? = nil) {
        self.code = code
        self.message = message
        self.id = id
        self.topic = topic
    }
}
