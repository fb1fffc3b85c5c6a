import BusProtocol
import Testing

/// `JSON.decodeString` and the integer decoders.
struct JSONDecodingTests {
    static let strings: [(String, String?)] = [
        (#""""#, ""), (#""abc""#, "abc"), (#""é ✓""#, "é ✓"), (#""a\"b\\c\/d""#, "a\"b\\c/d"),
        (#""\b\f\n\r\t""#, "\u{8}\u{C}\n\r\t"), (#""\u0041\u00E9\u2713""#, "Aé✓"),
        (#""\uD83D\uDE00""#, "😀"), (#""\ud83d\ude00x""#, "😀x"),
        (#""\ud800""#, nil), (#""\udc00""#, nil), (#""\ud800\u0041""#, nil), (#""\uDE00\uD83D""#, nil),
        (#""abc"#, nil), (#"abc""#, nil), (#"""#, nil), ("", nil), (#""a"b""#, nil), (#""\x""#, nil),
        ("\"\t\"", nil), (#""a" "#, nil), (#""\u00""#, nil),
    ]

    @Test(arguments: strings)
    func decodeStringUnescapesOrRefuses(_ raw: String, _ expected: String?) {
        #expect(decodeString(utf8(raw)) == expected)
    }

    @Test func decodeStringRefusesMalformedUTF8() {
        #expect(decodeString([0x22, 0xC3, 0x22]) == nil)
        #expect(decodeString([0x22, 0xC3, 0xA9, 0x22]) == "é")
    }

    static let integers: [(String, Int64?)] = [
        ("0", 0), ("-0", 0), ("7", 7), ("-42", -42), ("9223372036854775807", .max),
        ("-9223372036854775808", .min), ("9223372036854775808", nil), ("-9223372036854775809", nil),
        ("99999999999999999999999", nil), ("01", nil), ("-01", nil), ("1.0", nil), ("1e3", nil),
        ("", nil), ("-", nil), (" 1", nil), ("1 ", nil), ("+1", nil), ("\"1\"", nil),
    ]

    @Test(arguments: integers)
    func decodeIntegerAcceptsOnlyIntegerTokens(_ raw: String, _ expected: Int64?) {
        #expect(utf8(raw).withUnsafeBytes { JSON.decodeInteger($0) } == expected)
    }

    @Test func decodeUnsignedIntegerCoversUInt64() {
        func decode(_ raw: String) -> UInt64? { utf8(raw).withUnsafeBytes { JSON.decodeUnsignedInteger($0) } }
        #expect(decode("18446744073709551615") == .max)
        #expect(decode("18446744073709551616") == nil)
        #expect(decode("0") == 0)
        #expect(decode("-1") == nil)
        #expect(decode("00") == nil)
    }
}
