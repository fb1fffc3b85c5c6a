import BusProtocol
import Testing

/// `JSONText` writes exactly the escapes RFC 8259 §7 requires, and they read back.
struct JSONTextTests {
    static let exact: [(String, String)] = [
        ("", #""""#), ("abc", #""abc""#), ("a\"b", #""a\"b""#), ("a\\b", #""a\\b""#),
        ("\n\r\t", #""\n\r\t""#), ("\u{0}\u{1}\u{8}\u{C}\u{1F}", #""\u0000\u0001\u0008\u000c\u001f""#),
        ("/\u{7F}é😀", "\"/\u{7F}é😀\""), ("</script>", #""</script>""#),
    ]

    @Test(arguments: exact)
    func quotedEscapesOnlyWhatRFC8259Requires(_ input: String, _ expected: String) {
        #expect(JSONText.quoted(input) == expected)
    }

    @Test func everyASCIICodePointRoundTrips() {
        for scalar in 0 ... 0x7F {
            let text = String(Character(Unicode.Scalar(UInt8(scalar))))
            let quoted = utf8(JSONText.quoted("x" + text + "y"))
            #expect(validate(quoted), "U+\(scalar)")
            #expect(decodeString(quoted) == "x" + text + "y", "U+\(scalar)")
        }
    }

    @Test func nonASCIIRoundTripsRaw() {
        let samples = ["é", "ß", "中文", "😀", "\u{10FFFF}", "\u{FFFD}", "\u{2028}\u{2029}", "a\u{301}"]
        for sample in samples {
            let quoted = JSONText.quoted(sample)
            #expect(quoted == "\"" + sample + "\"")
            #expect(decodeString(utf8(quoted)) == sample)
        }
    }

    @Test func appendQuotedAppendsAfterExistingBytes() {
        var bytes = utf8("[")
        JSONText.appendQuoted("a\"", to: &bytes)
        utf8("\u{1}b").withUnsafeBytes { JSONText.appendQuoted(utf8: $0, to: &bytes) }
        #expect(String(decoding: bytes, as: UTF8.self) == #"["a\"""# + #""\u0001b""#)
    }
}
