@testable import Frames
import Testing

/// The byte classes and comparisons every request head goes through, checked against their
/// definitions for every byte (the fast forms are masks and XORs).
struct HTTPSyntaxTests {
    @Test func tokenCharactersAreExactlyRFC9110TChar() {
        let tchar = Set("!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ".utf8)
        for byte in UInt8.min...UInt8.max {
            #expect(HTTPSyntax.isTokenChar(byte) == tchar.contains(byte), "byte \(byte)")
            #expect((HTTPSyntax.tokenTable[Int(byte)] == 1) == tchar.contains(byte), "table, byte \(byte)")
        }
    }

    @Test func caseInsensitiveEqualityFoldsLettersOnly() {
        for a in UInt8(0x20)...UInt8(0x7E) {
            for b in UInt8(0x20)...UInt8(0x7E) {
                let expected = HTTPSyntax.lowercased(a) == HTTPSyntax.lowercased(b)
                let x = String(decoding: [0x78, a, 0x79], as: UTF8.self)
                let y = String(decoding: [0x78, b, 0x79], as: UTF8.self)
                #expect(HTTPSyntax.equalsIgnoringCase(x, y) == expected, "bytes \(a) and \(b)")
            }
        }
        #expect(!HTTPSyntax.equalsIgnoringCase("Host", "Hosts"))
        #expect(HTTPSyntax.equalsIgnoringCase("SEC-websocket-KEY", "Sec-WebSocket-Key"))
        #expect(HTTPSyntax.equalsIgnoringCase("", ""))
        #expect(HTTPSyntax.equalsIgnoringCase("host"[...], "HOST"))
    }

    @Test(arguments: [
        ("chat, superChat", ["chat", "superChat"]), (" a ,, b\t,", ["a", "b"]), ("", []), (",", []), ("x", ["x"]),
        ("é, ü", ["é", "ü"]),
    ])
    func listElementsAreTrimmedAndNonEmpty(list: String, elements: [String]) {
        var out: [String] = []
        HTTPSyntax.appendListElements(of: list, to: &out)
        #expect(out == elements)
    }

    /// The word-at-a-time LF search against a byte loop: every length up to three words, an
    /// LF at every position (or none), from every start, among bytes one bit away from LF
    /// (0x0B, 0x08, 0x8A) and high bytes a borrow could confuse.
    @Test func firstLFMatchesAByteLoop() {
        for length in 0...24 {
            for lf in [nil] + Array(0..<length) {
                var bytes = (0..<length).map { [UInt8(0x0B), 0x08, 0x8A, 0xFF, 0x09, 0x00][$0 % 6] }
                if let lf { bytes[lf] = HTTPSyntax.lf }
                if let lf, lf + 1 < length { bytes[lf + 1] = HTTPSyntax.lf }
                bytes.withUnsafeBytes { buffer in
                    for start in 0...length {
                        let expected = (start..<length).first { buffer[$0] == HTTPSyntax.lf } ?? length
                        #expect(HTTPSyntax.firstLF(in: buffer, from: start) == expected, "length \(length), LF \(String(describing: lf)), start \(start)")
                    }
                }
            }
        }
    }

    /// The word-at-a-time value check against the byte rule: every length up to three words,
    /// one byte of each interesting kind (controls, HTAB, SP, DEL, obs-text) at every position.
    @Test func forbiddenInValueMatchesTheByteRule() {
        for length in 0...24 {
            for special in [UInt8(0x00), 0x09, 0x0A, 0x0D, 0x1F, 0x20, 0x7E, 0x7F, 0x80, 0xFF] {
                for position in [nil] + Array(0..<length) {
                    var bytes = (0..<length).map { [UInt8(0x41), 0x20, 0xC3, 0x21, 0x7E][$0 % 5] }
                    if let position { bytes[position] = special }
                    let expected = bytes.contains(where: HTTPSyntax.isForbiddenInValue)
                    #expect(bytes.withUnsafeBytes(HTTPSyntax.containsForbiddenInValue) == expected,
                            "length \(length), byte \(special) at \(String(describing: position))")
                }
            }
        }
    }
}
