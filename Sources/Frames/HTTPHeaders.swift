/// Header fields of one HTTP message, in the order received (RFC 9110 §5).
///
/// Order and repeats are kept because they carry meaning: a field sent twice is the same as
/// one field with the values joined by commas (RFC 9110 §5.3), and some checks must see
/// every line (duplicate `Host`, `Content-Length`, `Sec-WebSocket-Key`). Names compare
/// case-insensitively (RFC 9110 §5.1) but are stored as sent.
///
/// Stored as bytes: every line's name and value back to back in one array, and where each
/// line lies in a second. A request head becomes two arrays instead of two strings per line
/// (a dozen lines was a sixth of a connection's set-up); lookups compare bytes, and only
/// what a caller asks for is made a `String`.
public struct HTTPHeaders: Sendable, Sequence, Equatable {
    /// One field line: name and value, value already trimmed of surrounding whitespace.
    public typealias Element = (name: String, value: String)

    /// Where one line's name and value lie in `bytes`: `start..<nameEnd` and
    /// `valueStart..<end` (a line read from a head keeps its colon and spaces between).
    struct Line: Sendable {
        var start: Int
        var nameEnd: Int
        var valueStart: Int
        var end: Int
    }

    private var bytes: [UInt8] = []
    private var lines: [Line] = []

    /// No fields.
    public init() {}

    /// The given fields, in order.
    public init(_ fields: [(String, String)]) {
        for (name, value) in fields { add(name, value) }
    }

    /// Number of field lines (a repeated name counts once per line).
    public var count: Int { lines.count }

    /// True when there are no field lines.
    public var isEmpty: Bool { lines.isEmpty }

    /// The fields in order.
    public func makeIterator() -> Iterator {
        Iterator(headers: self)
    }

    /// The fields in order, each made a pair of strings as it is reached.
    public struct Iterator: IteratorProtocol {
        let headers: HTTPHeaders
        var index = 0

        public mutating func next() -> Element? {
            guard index < headers.lines.count else { return nil }
            defer { index += 1 }
            return (headers.string(headers.lines[index].start, headers.lines[index].nameEnd),
                    headers.string(headers.lines[index].valueStart, headers.lines[index].end))
        }
    }

    /// The first value of the field `name` (any case), or nil when absent.
    ///
    /// Use `values(_:)` or `tokens(_:)` for fields that may repeat; this is for fields that
    /// are singletons by definition (`Host`, `Sec-WebSocket-Key`).
    public subscript(name: String) -> String? {
        guard let line = firstLine(name) else { return nil }
        return string(line.valueStart, line.end)
    }

    /// Calls `body` with the first value of the field `name` (any case) where it lies, or with
    /// nil when absent: a check that only reads the value (every upgrade's `Host`) makes no
    /// `String` of it.
    public func withFirstValue<R>(_ name: String, _ body: (UnsafeRawBufferPointer?) -> R) -> R {
        guard let line = firstLine(name) else { return body(nil) }
        return bytes.withUnsafeBytes { body(UnsafeRawBufferPointer(rebasing: $0[line.valueStart..<line.end])) }
    }

    /// Every value of the field `name` (any case), one per field line, in order.
    public func values(_ name: String) -> [String] {
        var result: [String] = []
        forEachLine(named: name) { result.append(String(decoding: $0, as: UTF8.self)) }
        return result
    }

    /// The comma-separated list elements of every `name` line (RFC 9110 §5.6.1), trimmed,
    /// ASCII-lowercased, with empty elements dropped.
    ///
    /// Lowercased because the fields read this way (`Connection`, `Upgrade`,
    /// `Transfer-Encoding`) hold case-insensitive tokens (RFC 9110 §7.6.1, §7.8; RFC 9112
    /// §7). Quoted strings are not treated specially: none of those fields use them.
    public func tokens(_ name: String) -> [String] {
        var result: [String] = []
        forEachLine(named: name) { HTTPSyntax.appendListElements(of: $0, to: &result) }
        return result.map { HTTPSyntax.lowercased($0) }
    }

    /// True when `token` (any case) is an element of the comma list in some `name` line,
    /// e.g. `containsToken("upgrade", in: "Connection")` for `Connection: keep-alive, Upgrade`.
    public func containsToken(_ token: String, in name: String) -> Bool {
        var token = token
        return token.withUTF8 { wanted in
            var found = false
            forEachLine(named: name) { value in
                found = found || HTTPSyntax.list(value, containsToken: UnsafeRawBufferPointer(wanted))
            }
            return found
        }
    }

    /// Number of `name` lines (any case): a singleton field must have exactly one.
    public func lineCount(_ name: String) -> Int {
        var count = 0
        forEachLine(named: name) { _ in count += 1 }
        return count
    }

    /// True when at least one `name` line (any case) is present.
    public func contains(_ name: String) -> Bool {
        firstLine(name) != nil
    }

    /// Room for `count` lines of `byteCount` bytes in all without growing (a head reader's
    /// first line reserves a handshake's worth, instead of growing through 1, 2, 4 and 8).
    mutating func reserveCapacity(_ count: Int, bytes byteCount: Int) {
        lines.reserveCapacity(count)
        bytes.reserveCapacity(byteCount)
    }

    /// Bytes of names and values the storage holds without growing.
    public var byteCapacity: Int { bytes.capacity }

    /// Removes every line; `keepingCapacity` keeps the storage for the next head read into it
    /// (a loop hands each upgraded request's storage to the next connection's parser).
    public mutating func removeAll(keepingCapacity: Bool = false) {
        bytes.removeAll(keepingCapacity: keepingCapacity)
        lines.removeAll(keepingCapacity: keepingCapacity)
    }

    /// Appends a field line, keeping any earlier lines of the same name.
    ///
    /// The name and value are not validated here; `HTTPResponseHead.serialized()` neutralizes
    /// CR and LF so a value can never split a response.
    public mutating func add(_ name: String, _ value: String) {
        let start = bytes.count
        bytes += name.utf8
        let valueStart = bytes.count
        bytes += value.utf8
        lines.append(Line(start: start, nameEnd: valueStart, valueStart: valueStart, end: bytes.count))
    }

    /// Appends a field line read from a head (`HTTPHeadReader`, which validated it), in one
    /// copy: the name is `line[..<nameEnd]`, the value `line[valueStart...]`.
    mutating func add(line: UnsafeRawBufferPointer, nameEnd: Int, valueStart: Int) {
        let start = bytes.count
        bytes.append(contentsOf: line)
        lines.append(Line(start: start, nameEnd: start + nameEnd, valueStart: start + valueStart, end: bytes.count))
    }

    /// Replaces every `name` line (any case) with one line holding `value`, at the position of
    /// the first one, or at the end when absent.
    public mutating func replaceOrAdd(_ name: String, _ value: String) {
        var replaced = HTTPHeaders()
        var added = false
        for (index, pair) in enumerated() {
            if matches(lines[index], name) {
                if !added { replaced.add(name, value) }
                added = true
            } else {
                replaced.add(pair.name, pair.value)
            }
        }
        if !added { replaced.add(name, value) }
        self = replaced
    }

    /// Removes every `name` line (any case).
    public mutating func remove(_ name: String) {
        var kept = HTTPHeaders()
        for (index, pair) in enumerated() where !matches(lines[index], name) { kept.add(pair.name, pair.value) }
        self = kept
    }

    /// Same lines in the same order, names and values compared exactly.
    public static func == (lhs: HTTPHeaders, rhs: HTTPHeaders) -> Bool {
        guard lhs.lines.count == rhs.lines.count else { return false }
        for (left, right) in zip(lhs.lines, rhs.lines) {
            guard lhs.bytes[left.start..<left.nameEnd] == rhs.bytes[right.start..<right.nameEnd],
                  lhs.bytes[left.valueStart..<left.end] == rhs.bytes[right.valueStart..<right.end] else { return false }
        }
        return true
    }

    // MARK: bytes

    /// Calls `body` with every line's name and value, in order, read in place.
    @inline(__always)
    func forEachLine(_ body: (_ name: UnsafeRawBufferPointer, _ value: UnsafeRawBufferPointer) -> Void) {
        bytes.withUnsafeBytes { all in
            for line in lines {
                body(UnsafeRawBufferPointer(rebasing: all[line.start..<line.nameEnd]),
                     UnsafeRawBufferPointer(rebasing: all[line.valueStart..<line.end]))
            }
        }
    }

    /// Calls `body` with the value of every `name` line (any case), in order, read in place.
    private func forEachLine(named name: String, _ body: (UnsafeRawBufferPointer) -> Void) {
        var name = name
        name.withUTF8 { wanted in
            forEachLine { lineName, value in
                if lineName.count == wanted.count && HTTPSyntax.equalsIgnoringCase(lineName, UnsafeRawBufferPointer(wanted)) {
                    body(value)
                }
            }
        }
    }

    private func firstLine(_ name: String) -> Line? {
        var name = name
        return name.withUTF8 { wanted in
            bytes.withUnsafeBytes { all in
                lines.first {
                    $0.nameEnd - $0.start == wanted.count
                        && HTTPSyntax.equalsIgnoringCase(UnsafeRawBufferPointer(rebasing: all[$0.start..<$0.nameEnd]),
                                                         UnsafeRawBufferPointer(wanted))
                }
            }
        }
    }

    private func matches(_ line: Line, _ name: String) -> Bool {
        var name = name
        return name.withUTF8 { wanted in
            bytes.withUnsafeBytes { all in
                HTTPSyntax.equalsIgnoringCase(UnsafeRawBufferPointer(rebasing: all[line.start..<line.nameEnd]),
                                              UnsafeRawBufferPointer(wanted))
            }
        }
    }

    private func string(_ from: Int, _ to: Int) -> String {
        bytes.withUnsafeBufferPointer { String(decoding: UnsafeBufferPointer(rebasing: $0[from..<to]), as: UTF8.self) }
    }
}
