import Testing
@testable import Frames

/// Base64 against RFC 4648 §10 and the strictness rules of §3.
struct Base64Tests {
    /// RFC 4648 §10 test vectors.
    static let vectors: [(String, String)] = [
        ("", ""), ("f", "Zg=="), ("fo", "Zm8="), ("foo", "Zm9v"),
        ("foob", "Zm9vYg=="), ("fooba", "Zm9vYmE="), ("foobar", "Zm9vYmFy"),
    ]

    @Test(arguments: vectors)
    func encodesRFC4648Vectors(plain: String, encoded: String) {
        #expect(Base64.encode(Array(plain.utf8)) == encoded)
    }

    @Test(arguments: vectors)
    func decodesRFC4648Vectors(plain: String, encoded: String) {
        #expect(Base64.decode(encoded) == Array(plain.utf8))
    }

    @Test(arguments: vectors)
    func urlVariantWithoutPaddingRoundTrips(plain: String, encoded: String) {
        let unpadded = String(encoded.filter { $0 != "=" })
        #expect(Base64.encode(Array(plain.utf8), url: true, padding: false) == unpadded)
        #expect(Base64.decode(unpadded, url: true) == Array(plain.utf8))
        // Padding that is present must still be right.
        #expect(Base64.decode(encoded, url: true) == Array(plain.utf8))
    }

    @Test func urlAlphabetUsesDashAndUnderscore() {
        let bytes: [UInt8] = [0xFB, 0xFF, 0xBF]
        #expect(Base64.encode(bytes) == "+/+/")
        #expect(Base64.encode(bytes, url: true) == "-_-_")
        #expect(Base64.decode("-_-_", url: true) == bytes)
        #expect(Base64.decode("-_-_") == nil)
        #expect(Base64.decode("+/+/", url: true) == nil)
    }

    @Test func everyByteValueRoundTrips() {
        let bytes = (0...255).map { UInt8($0) }
        for length in 0...bytes.count {
            let slice = bytes[0..<length]
            #expect(Base64.decode(Base64.encode(slice)) == Array(slice))
            #expect(Base64.decode(Base64.encode(slice, url: true, padding: false), url: true) == Array(slice))
        }
    }

    /// Each input is refused by the strict decoder (RFC 4648 §3.3, §3.5).
    @Test(arguments: [
        "Zg", "Zg=", "Zm8", "Z", "Z===", "Zg===", "====", "=", "Zm9v=", // wrong or missing padding
        "Zg==Zg==", "Z=g=", // padding in the middle
        "Zm9v\n", " Zm9v", "Zm 9v", "Zm9v!", "Zm9-", "Zm9_", // characters outside the alphabet
        "Zh==", "Zm9=", // non-zero pad bits (canonical encodings are "Zg==", "Zm8=")
    ])
    func strictDecoderRejects(input: String) {
        #expect(Base64.decode(input) == nil)
    }

    @Test(arguments: ["Z", "Zg=", "Zg===", "Zm9vY", "Zm9v+", "Zh"])
    func strictURLDecoderRejects(input: String) {
        #expect(Base64.decode(input, url: true) == nil)
    }

    @Test func decodesFromSubstring() {
        let text = "key: Zm9vYmFy"
        #expect(Base64.decode(text.dropFirst(5)) == Array("foobar".utf8))
    }

    /// The handshake's key check without building bytes answers as the decoder does: every
    /// 16-byte value, and near misses (length, padding, alphabet, non-zero spare bits).
    @Test(arguments: [
        "dGhlIHNhbXBsZSBub25jZQ==", "AAAAAAAAAAAAAAAAAAAAAA==", "/////////////////////w==",
        "/////////////////////x==", "dGhlIHNhbXBsZSBub25jZR==", "dGhlIHNhbXBsZSBub25jZQ=", "dGhlIHNhbXBsZSBub25jZQ",
        "dGhlIHNhbXBsZSBub25jZQ===", "dGhlIHNhbXBsZSBub25jZQA=", "dGhlIHNhbXBsZSBub25j-Q==", "dGhlIHNhbXBsZSBub25j\u{0}Q==",
        "dGhlIHNhbXBsZSBub25jZQ=A", "ZGhlIHNhbXBsZSBub25jZSE=", "", "====",
    ])
    func sixteenByteCheckAgreesWithDecoder(input: String) {
        #expect(Base64.decodesTo16Bytes(input) == (Base64.decode(input)?.count == 16))
    }

    @Test func sixteenByteCheckAcceptsEveryValueOfSpareBits() {
        for last in 0..<64 {
            var bytes = Array(repeating: UInt8(0), count: 16)
            bytes[15] = UInt8(last * 4 & 0xFF)
            let text = Base64.encode(bytes)
            #expect(Base64.decodesTo16Bytes(text))
        }
    }
}
