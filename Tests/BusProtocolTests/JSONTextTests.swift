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

    /// Guards the word-at-a-time scan for the first byte to escape: every byte that needs an
    /// escape, and its neighbours that do not, at every offset of texts up to three words
    /// long, quotes as the byte-by-byte rule says.
    @Test func everyEscapeIsFoundAtEveryOffset() {
        func reference(_ bytes: [UInt8]) -> String {
            var out = "\""
            for byte in bytes {
                switch byte {
                case 0x22: out += "\\\""
                case 0x5C: out += "\\\\"
                case 0x0A: out += "\\n"
                case 0x0D: out += "\\r"
                case 0x09: out += "\\t"
                case ..<0x20: out += "\\u00" + String(byte >> 4, radix: 16) + String(byte & 0xF, radix: 16)
                default: out += String(UnicodeScalar(byte))
                }
            }
            return out + "\""
        }
        let probes: [UInt8] = Array(0 ..< 0x20) + [0x21, 0x22, 0x23, 0x5B, 0x5C, 0x5D, 0x7F]
        for length in 1 ... 24 {
            for offset in 0 ..< length {
                for probe in probes {
                    var bytes = [UInt8](repeating: UInt8(ascii: "a"), count: length)
                    bytes[offset] = probe
                    let text = String(decoding: bytes, as: UTF8.self)
                    #expect(JSONText.quoted(text) == reference(bytes), "length \(length), byte \(probe) at \(offset)")
                }
            }
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
