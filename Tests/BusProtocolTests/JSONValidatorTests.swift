import BusProtocol
import Testing

/// `JSON.validateValue` against RFC 8259, in the spirit of nst/JSONTestSuite: every `y_`
/// style input must pass and every `n_` style input must fail; each is also checked against
/// the reference validator so the two tables cannot drift from the grammar.
struct JSONValidatorTests {
    static let valid: [String] = [
        "0", "-0", "1", "-1", "123", "1.5", "-0.0", "0e0", "0E+1", "1e-7", "1.25e+10",
        "1E400", "-1e-400", "123456789012345678901234567890", "1e99999999999999999999",
        "true", "false", "null", #""""#, #""a""#, #""\"\\\/\b\f\n\r\t""#,
        #""\u0041\u00e9\uD83D\uDE00""#, #""\ud800""#, #""\uDFFF tail""#, #""é ✓ 😀""#,
        "\"\u{7F}\"", "[]", "{}", "[1]", "[1,2,3]", #"{"a":1}"#, #"{"a":{"b":[true,null]}}"#,
        #"{"":""}"#, #"{"a":1,"a":2}"#, " \t\r\n1\n", "[ ]", "{ }", " [ 1 , { \"k\" : [ ] } ] ",
        "[[[[[]]]]]", #"[-1.0e+2,"x",{},[],false]"#,
    ]

    static let invalid: [String] = [
        "", " ", "\n\t", "[1,]", "[,1]", "[1 2]", "{\"a\":1,}", "{,}", "{\"a\"}", "{\"a\" 1}",
        "{\"a\":}", "{a:1}", "{1:1}", "{'a':1}", "01", "-01", "00", "1.", ".1", "-", "+1",
        "1e", "1e+", "1E-", "1.e5", "0x10", "1f", "NaN", "Infinity", "-Infinity", "1 2",
        "tru", "true1", "trUe", "nul", "nulll", "falsey", "True", "\"abc", "\"\\x\"", "\"\\u12\"",
        "\"\\u12G4\"", "\"\\\"", "\"\t\"", "\"\n\"", "\"a\u{0}b\"", "\"\u{1F}\"", "'a'", "[", "]",
        "{", "}", "[1", "{\"a\":1", "[1]]", "{}}", "[}", "{]", "1 x", "null,", "[1]x", "\u{A0}1",
        "\u{C}1", "1\u{C}", "/* */1", "[1,,2]", "[\"a\":1]", "{\"a\":1:2}", "\u{FEFF}1", "-a",
        "1.5e", "2.", "--1", "[.5]", "[1.e1]", "\"\\U0041\"", "\"\\'\"",
    ]

    @Test(arguments: valid)
    func validatorAcceptsValidJSON(_ input: String) {
        #expect(validate(input))
        #expect(ReferenceJSON.isValid(utf8(input)))
    }

    @Test(arguments: invalid)
    func validatorRejectsInvalidJSON(_ input: String) {
        #expect(!validate(input))
        #expect(!ReferenceJSON.isValid(utf8(input)))
    }

    /// Bytes a WebSocket text frame could never carry, but an HTTP body or a fuzzer can:
    /// RFC 8259 §8.1 requires UTF-8 inside strings, and bare non-ASCII is never a token.
    static let invalidBytes: [[UInt8]] = [
        [0x22, 0xC0, 0xAF, 0x22],             // overlong "/"
        [0x22, 0xED, 0xA0, 0x80, 0x22],       // UTF-8 encoded surrogate
        [0x22, 0xF4, 0x90, 0x80, 0x80, 0x22], // above U+10FFFF
        [0x22, 0xE2, 0x82, 0x22],             // truncated sequence
        [0x22, 0x80, 0x22],                   // lone continuation byte
        [0x22, 0xFF, 0x22],
        [0xC3, 0xA9],                         // "é" outside a string
        [0x5B, 0x31, 0x5D, 0x00],             // NUL after the value
    ]

    @Test(arguments: invalidBytes)
    func validatorRejectsMalformedUTF8(_ input: [UInt8]) {
        #expect(!validate(input), "\(hex(input))")
        #expect(!ReferenceJSON.isValid(input))
    }

    /// The string fast path skips 8 bytes at a time; a special byte in each lane of a word
    /// and at each distance from the end must still be seen.
    @Test func stringFastPathSeesSpecialBytesInEveryLane() {
        for length in 0 ..< 24 {
            for position in 0 ..< max(length, 1) where length > 0 {
                var content = [UInt8](repeating: UInt8(ascii: "a"), count: length)
                content[position] = 0x09 // raw tab: invalid
                #expect(!validate([0x22] + content + [0x22]), "tab at \(position) of \(length)")
                content[position] = 0x22 // quote: ends the string early, leaving garbage
                #expect(!validate([0x22] + content + [0x22]), "quote at \(position) of \(length)")
                content[position] = 0x7F // DEL: allowed raw
                #expect(validate([0x22] + content + [0x22]))
                content[position] = 0xE9 // a lone Latin-1 byte: not UTF-8
                #expect(!validate([0x22] + content + [0x22]))
            }
            let plain = [UInt8](repeating: UInt8(ascii: "b"), count: length)
            #expect(validate([0x22] + plain + [0x22]))
            #expect(!validate([0x22] + plain), "unterminated string of \(length)")
        }
    }

    @Test func depthExactlyAtLimitPassesAndOneMoreFails() {
        for (open, close) in [("[", "]"), ("{\"k\":", "}")] {
            let at64 = String(repeating: open, count: 64) + "1" + String(repeating: close, count: 64)
            let at65 = String(repeating: open, count: 65) + "1" + String(repeating: close, count: 65)
            #expect(validate(at64))
            #expect(!validate(at65))
            #expect(utf8(at65).withUnsafeBytes { JSON.valueError($0) } == .tooDeep(offset: open.utf8.count * 64, maxDepth: 64))
        }
        #expect(validate("[[]]", maxDepth: 2))
        #expect(!validate("[[]]", maxDepth: 1))
        #expect(validate("1", maxDepth: 0))
        #expect(!validate("[]", maxDepth: 0))
    }

    /// Regression guard for the iterative design: 100,000 nested `[` must neither recurse nor
    /// crash, at the default limit or with no practical limit at all.
    @Test func hundredThousandNestedArraysAreRefusedWithoutRecursion() {
        let deep = [UInt8](repeating: UInt8(ascii: "["), count: 100_000) + [UInt8](repeating: UInt8(ascii: "]"), count: 100_000)
        #expect(!validate(deep))
        #expect(validate(deep, maxDepth: 100_000))
        #expect(!validate(deep, maxDepth: 99_999))
        #expect(!validate(Array(deep.dropLast()), maxDepth: .max))
        let mixed = Array(String(repeating: "{\"a\":[", count: 50_000).utf8)
            + [0x31] + Array(String(repeating: "]}", count: 50_000).utf8)
        #expect(validate(mixed, maxDepth: 100_000))
        #expect(!validate(mixed))
    }

    /// Depths past 64 use more than one word of the bit stack: containers of both kinds must
    /// be remembered correctly across word boundaries.
    @Test func containerKindsAreRememberedAcrossStackWords() {
        var open = "", close = ""
        for level in 0 ..< 200 {
            if level % 3 == 0 { open += "{\"k\":"; close = "}" + close } else { open += "["; close = "]" + close }
        }
        #expect(validate(open + "null" + close, maxDepth: 200))
        var swapped = Array((open + "null" + close).utf8)
        let firstBrace = swapped.firstIndex(of: UInt8(ascii: "}"))!
        let firstBracket = swapped.firstIndex(of: UInt8(ascii: "]"))!
        swapped.swapAt(firstBrace, firstBracket)
        #expect(!validate(swapped, maxDepth: 200))
    }

    @Test func errorOffsetsPointAtTheFirstBadByte() {
        func error(_ input: String) -> JSONError? { utf8(input).withUnsafeBytes { JSON.valueError($0) } }
        #expect(error("[1,]") == .syntax(offset: 3, expected: .value))
        #expect(error("01") == .syntax(offset: 1, expected: .end))
        #expect(error("1.") == .syntax(offset: 2, expected: .digit))
        #expect(error("\"\\x\"") == .syntax(offset: 2, expected: .escape))
        #expect(error("") == .syntax(offset: 0, expected: .value))
        #expect(error("[1] x") == .syntax(offset: 4, expected: .end))
        #expect(error("tru") == .syntax(offset: 3, expected: .literal))
        #expect(error("[1]") == nil)
    }
}
