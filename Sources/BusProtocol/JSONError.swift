/// Why a JSON text was refused. Every case is protocol code `bad_json`: a client can only
/// fix its JSON, so the wire code stays coarse while `message` says where it broke.
public enum JSONError: Error, Equatable, Sendable {
    /// The byte at `offset` cannot continue a valid JSON text; `offset == count` means the
    /// input ended too early. `expected` is what the grammar needed there, for messages a
    /// person reads (the config file's errors); the wire message gives the offset only.
    case syntax(offset: Int, expected: JSONExpectation)
    /// A container at `offset` would nest deeper than the `maxDepth` levels allowed.
    case tooDeep(offset: Int, maxDepth: Int)
    /// `scanObject` was given a text whose value does not start with `{`.
    case notObject

    /// The stable protocol code for every JSON failure.
    public var code: ErrorCode { .badJSON }

    /// A short explanation for the error envelope.
    public var message: String {
        switch self {
        case .syntax(let offset, _): "invalid JSON at byte \(offset)"
        case .tooDeep(_, let maxDepth): "JSON nested deeper than \(maxDepth) levels"
        case .notObject: "expected one JSON object"
        }
    }
}

/// What the scanner needed at the byte where a text broke. Each throw site knows this
/// already, so saying it costs nothing on the valid path and no second parser is needed to
/// explain an error (`ConfigFile` prints "line 3, column 12: expected a value").
public enum JSONExpectation: Sendable, Equatable {
    /// An object, array, string, number, `true`, `false` or `null`.
    case value
    /// A member name in double quotes (after `{` or a `,` inside an object).
    case memberName
    /// The `:` between a member name and its value.
    case colon
    /// `,` or `}` after a member's value.
    case commaOrBrace
    /// `,` or `]` after an element.
    case commaOrBracket
    /// Nothing but whitespace after the one value.
    case end
    /// The `"` that ends a string (the text ended inside one).
    case closingQuote
    /// A raw control character inside a string, which must be escaped.
    case escapedControl
    /// One of `\" \\ \/ \b \f \n \r \t \uXXXX`.
    case escape
    /// A hex digit of a `\u` escape.
    case hexDigit
    /// Well-formed UTF-8 (Unicode table 3-7).
    case utf8
    /// A digit of a number.
    case digit
    /// The rest of `true`, `false` or `null`.
    case literal
    /// The `[` of an array (`JSON.scanArray`).
    case array

    /// The phrase after "expected".
    public var description: String {
        switch self {
        case .value: "a value (object, array, string, number, true, false or null)"
        case .memberName: "a member name in double quotes"
        case .colon: "':' after the member name"
        case .commaOrBrace: "',' or '}' after the member"
        case .commaOrBracket: "',' or ']' after the element"
        case .end: "the end of the text after the value"
        case .closingQuote: "the closing '\"' of the string"
        case .escapedControl: "an escape such as \\n or \\u0009 instead of a control character in the string"
        case .escape: "an escape: \\\" \\\\ \\/ \\b \\f \\n \\r \\t or \\uXXXX"
        case .hexDigit: "four hex digits after \\u"
        case .utf8: "UTF-8 text"
        case .digit: "a digit"
        case .literal: "true, false or null"
        case .array: "an array ('[')"
        }
    }
}

/// A line and column (both from 1) in a text, for errors a person fixes in an editor.
/// Columns count characters (UTF-8 lead bytes), so a name with accents does not shift them.
public struct TextPosition: Sendable, Equatable, CustomStringConvertible {
    public let line: Int
    public let column: Int

    public init(line: Int, column: Int) {
        self.line = line
        self.column = column
    }

    /// The position of byte `offset` of `bytes` (`offset == bytes.count` is just past the end).
    public init(offset: Int, in bytes: some Collection<UInt8>) {
        var line = 1, column = 1
        for byte in bytes.prefix(offset) {
            if byte == 0x0A {
                line += 1
                column = 1
            } else if byte & 0xC0 != 0x80 {
                column += 1
            }
        }
        self.init(line: line, column: column)
    }

    public var description: String { "line \(line), column \(column)" }
}
