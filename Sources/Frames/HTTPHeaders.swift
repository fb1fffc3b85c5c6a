/// Header fields of one HTTP message, in the order received (RFC 9110 §5).
///
/// Order and repeats are kept because they carry meaning: a field sent twice is the same as
/// one field with the values joined by commas (RFC 9110 §5.3), and some checks must see
/// every line (duplicate `Host`, `Content-Length`, `Sec-WebSocket-Key`). Names compare
/// case-insensitively (RFC 9110 §5.1) but are stored as sent.
public struct HTTPHeaders: Sendable, Sequence, Equatable {
    /// One field line: name and value, value already trimmed of surrounding whitespace.
    public typealias Element = (name: String, value: String)

    private var fields: [Element]

    /// No fields.
    public init() {
        fields = []
    }

    /// The given fields, in order.
    public init(_ fields: [(String, String)]) {
        self.fields = fields.map { (name: $0.0, value: $0.1) }
    }

    /// Number of field lines (a repeated name counts once per line).
    public var count: Int { fields.count }

    /// True when there are no field lines.
    public var isEmpty: Bool { fields.isEmpty }

    /// The fields in order.
    public func makeIterator() -> IndexingIterator<[Element]> {
        fields.makeIterator()
    }

    /// The first value of the field `name` (any case), or nil when absent.
    ///
    /// Use `values(_:)` or `tokens(_:)` for fields that may repeat; this is for fields that
    /// are singletons by definition (`Host`, `Sec-WebSocket-Key`).
    public subscript(name: String) -> String? {
        fields.first { HTTPSyntax.equalsIgnoringCase($0.name, name) }?.value
    }

    /// Every value of the field `name` (any case), one per field line, in order.
    public func values(_ name: String) -> [String] {
        fields.lazy.filter { HTTPSyntax.equalsIgnoringCase($0.name, name) }.map(\.value)
    }

    /// The comma-separated list elements of every `name` line (RFC 9110 §5.6.1), trimmed,
    /// ASCII-lowercased, with empty elements dropped.
    ///
    /// Lowercased because the fields read this way (`Connection`, `Upgrade`,
    /// `Transfer-Encoding`) hold case-insensitive tokens (RFC 9110 §7.6.1, §7.8; RFC 9112
    /// §7). Quoted strings are not treated specially: none of those fields use them.
    public func tokens(_ name: String) -> [String] {
        var result: [String] = []
        for value in values(name) {
            for element in value.split(separator: ",", omittingEmptySubsequences: false) {
                let token = HTTPSyntax.trimmed(element)
                if !token.isEmpty { result.append(HTTPSyntax.lowercased(token)) }
            }
        }
        return result
    }

    /// True when `token` (any case) is an element of the comma list in some `name` line,
    /// e.g. `containsToken("upgrade", in: "Connection")` for `Connection: keep-alive, Upgrade`.
    public func containsToken(_ token: String, in name: String) -> Bool {
        fields.contains { HTTPSyntax.equalsIgnoringCase($0.name, name) && HTTPSyntax.list($0.value, containsToken: token) }
    }

    /// Number of `name` lines (any case): a singleton field must have exactly one.
    public func lineCount(_ name: String) -> Int {
        fields.reduce(0) { $0 + (HTTPSyntax.equalsIgnoringCase($1.name, name) ? 1 : 0) }
    }

    /// True when at least one `name` line (any case) is present.
    public func contains(_ name: String) -> Bool {
        fields.contains { HTTPSyntax.equalsIgnoringCase($0.name, name) }
    }

    /// Room for `count` lines without growing (a head reader's first line reserves a
    /// handshake's worth, instead of growing through 1, 2, 4 and 8).
    mutating func reserveCapacity(_ count: Int) { fields.reserveCapacity(count) }

    /// Appends a field line, keeping any earlier lines of the same name.
    ///
    /// The name and value are not validated here; `HTTPResponseHead.serialized()` neutralizes
    /// CR and LF so a value can never split a response.
    public mutating func add(_ name: String, _ value: String) {
        fields.append((name: name, value: value))
    }

    /// Replaces every `name` line (any case) with one line holding `value`, at the position of
    /// the first one, or at the end when absent.
    public mutating func replaceOrAdd(_ name: String, _ value: String) {
        if let first = fields.firstIndex(where: { HTTPSyntax.equalsIgnoringCase($0.name, name) }) {
            fields[first] = (name: name, value: value)
            var index = fields.index(after: first)
            while index < fields.endIndex {
                if HTTPSyntax.equalsIgnoringCase(fields[index].name, name) {
                    fields.remove(at: index)
                } else {
                    index += 1
                }
            }
        } else {
            add(name, value)
        }
    }

    /// Removes every `name` line (any case).
    public mutating func remove(_ name: String) {
        fields.removeAll { HTTPSyntax.equalsIgnoringCase($0.name, name) }
    }

    /// Same lines in the same order, names and values compared exactly.
    public static func == (lhs: HTTPHeaders, rhs: HTTPHeaders) -> Bool {
        lhs.fields.count == rhs.fields.count
            && zip(lhs.fields, rhs.fields).allSatisfy { $0.name == $1.name && $0.value == $1.value }
    }
}
