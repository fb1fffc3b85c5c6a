/// The head of an HTTP/1.x request: request line and header fields (RFC 9112 §3, §5).
///
/// The body, if any, is framed separately by `HTTPBodyDecoder`.
public struct HTTPRequest: Sendable, Equatable {
    /// Method token, case-sensitive (RFC 9110 §9.1): `GET` and `get` differ.
    public var method: String
    /// The request-target exactly as received (RFC 9112 §3.2), usually origin-form
    /// `/path?query`. Setting it updates `path` and `query`.
    public var target: String {
        didSet { (path, query) = Self.split(target) }
    }
    /// `target` before the first `?`, not percent-decoded (routing compares raw paths).
    public private(set) var path: String
    /// `target` after the first `?`, not decoded; nil when there is no `?`.
    public private(set) var query: String?
    /// Protocol version from the request line.
    public var version: HTTPVersion
    /// Header fields in received order.
    public var headers: HTTPHeaders

    /// A request head; `path` and `query` are derived from `target`.
    public init(method: String, target: String, version: HTTPVersion = .http1_1, headers: HTTPHeaders = HTTPHeaders()) {
        self.method = method
        self.target = target
        self.version = version
        self.headers = headers
        (path, query) = Self.split(target)
    }

    /// The value of the first query parameter called `name`, percent-decoded, or nil.
    ///
    /// Decoding follows `application/x-www-form-urlencoded` (WHATWG URL §5.1), which is what
    /// browsers' `URLSearchParams` produce: `&` separates pairs, `+` is a space, `%XX` is a
    /// byte, a malformed `%` escape is kept literally, and invalid UTF-8 becomes U+FFFD.
    /// A parameter without `=` has the empty value. Names are compared after decoding.
    public func queryItem(_ name: String) -> String? {
        queryItems().first { $0.name == name }?.value
    }

    /// Every query parameter in order, decoded as `queryItem(_:)` describes.
    public func queryItems() -> [(name: String, value: String)] {
        guard let query else { return [] }
        var items: [(name: String, value: String)] = []
        for pair in query.utf8.split(separator: UInt8(ascii: "&")) {
            let (rawName, rawValue): (Substring.UTF8View.SubSequence, Substring.UTF8View.SubSequence)
            if let equals = pair.firstIndex(of: UInt8(ascii: "=")) {
                rawName = pair[pair.startIndex..<equals]
                rawValue = pair[pair.index(after: equals)...]
            } else {
                rawName = pair[...]
                rawValue = pair[pair.endIndex...]
            }
            items.append((Self.formDecode(rawName), Self.formDecode(rawValue)))
        }
        return items
    }

    /// `application/x-www-form-urlencoded` byte decoding (WHATWG URL §5.1, percent-decode).
    public static func formDecode(_ bytes: some Collection<UInt8>) -> String {
        let input = Array(bytes)
        var out: [UInt8] = []
        out.reserveCapacity(input.count)
        var i = 0
        while i < input.count {
            let byte = input[i]
            if byte == UInt8(ascii: "+") {
                out.append(HTTPSyntax.space)
            } else if byte == UInt8(ascii: "%"), i + 2 < input.count,
                      let high = HTTPSyntax.hexValue(input[i + 1]),
                      let low = HTTPSyntax.hexValue(input[i + 2]) {
                out.append(UInt8(high << 4 | low))
                i += 2
            } else {
                out.append(byte)
            }
            i += 1
        }
        return String(decoding: out, as: UTF8.self)
    }

    private static func split(_ target: String) -> (String, String?) {
        // By byte, not by Character (nor by UTF8View index): every request's target is split here.
        var bytes = target
        guard let offset = bytes.withUTF8({ $0.firstIndex(of: UInt8(ascii: "?")) }) else { return (target, nil) }
        let question = target.utf8.index(target.utf8.startIndex, offsetBy: offset)
        return (String(target[..<question]), String(target[target.utf8.index(after: question)...]))
    }
}
