import Frames
import Testing

/// Path-segment percent-decoding (RFC 3986 §2.1): exactly two hex digits, else literal
/// (issue 13: `%+1` decoded to 0x01 through `UInt8(_:radix:)`, which accepts a sign).
struct PercentDecodingTests {
    @Test(arguments: [
        ("a.b", Array("a.b".utf8)), ("%41", [0x41]), ("%4a%4A", [0x4A, 0x4A]), ("%FF", [0xFF]), ("%00", [0x00]),
        ("m%C3%A9t%C3%A9o", Array("météo".utf8)), ("a+b", Array("a+b".utf8)), ("%2E", [0x2E]),
        ("%+1", Array("%+1".utf8)), ("%-1", Array("%-1".utf8)), ("%+F", Array("%+F".utf8)), ("% 1", Array("% 1".utf8)),
        ("%1", Array("%1".utf8)), ("%", Array("%".utf8)), ("%%41", [0x25, 0x41]), ("%zz", Array("%zz".utf8)),
        ("%1g", Array("%1g".utf8)), ("%0x1", Array("%0x1".utf8)), ("a%", Array("a%".utf8)), ("a%4", Array("a%4".utf8)),
        ("%%", Array("%%".utf8)), ("", []),
    ] as [(String, [UInt8])])
    func decodesExactlyTwoHexDigits(text: String, bytes: [UInt8]) {
        #expect(PercentDecoding.decode(text.utf8) == bytes)
    }
}
