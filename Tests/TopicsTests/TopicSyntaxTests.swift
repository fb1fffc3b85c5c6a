import TestSupport
import Testing
@testable import Topics

/// The byte-level whitespace/control list must equal Unicode's own properties, for every
/// non-ASCII scalar.
@Test func forbiddenScalarsAreExactlyWhitespaceAndControls() {
    var mismatches: [UInt32] = []
    for value in UInt32(0x80)...0x10FFFF {
        guard let scalar = Unicode.Scalar(value) else { continue }  // surrogates
        let unicode = scalar.properties.isWhitespace || scalar.properties.generalCategory == .control
        if TopicSyntax.isForbidden(value) != unicode { mismatches.append(value) }
    }
    #expect(mismatches.isEmpty)
}

@Test func everyASCIIByteIsJudgedLikeUnicode() {
    for byte in UInt8(0)...0x7F where !".*>".utf8.contains(byte) {
        let scalar = Unicode.Scalar(byte)
        let forbidden = scalar.properties.isWhitespace || scalar.properties.generalCategory == .control
        let candidate = "a" + String(Character(scalar)) + "b"
        expect(throws: forbidden ? .invalidCharacter : nil) { _ = try TopicName(candidate) }
    }
}

/// Every two-byte sequence, and random longer ones built from boundary bytes: the decoder
/// calls malformed exactly what the standard library calls malformed, and the scanner never
/// accepts malformed input nor blames valid input for its encoding.
@Test func utf8ValidationAgreesWithStandardLibrary() {
    func decoderAccepts(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        var i = 0
        while i < bytes.count {
            if bytes[i] < 0x80 { i += 1; continue }
            guard let (_, length) = TopicSyntax.decodeMultiByte(bytes, at: i) else { return false }
            i += length
        }
        return true
    }
    func check(_ bytes: [UInt8]) {
        let stdlibValid = String(validating: bytes, as: UTF8.self) != nil
        bytes.withUnsafeBufferPointer { buffer in
            #expect(decoderAccepts(buffer) == stdlibValid, "\(bytes)")
            switch TopicSyntax.scan(buffer, wildcards: true, limits: TopicLimits(maxLength: 64, maxDepth: 64)) {
            case .success: #expect(stdlibValid, "\(bytes)")
            case .failure(.invalidUTF8): #expect(!stdlibValid, "\(bytes)")
            case .failure(.invalidCharacter): break  // stops at a C1 control or NBSP first
            case .failure(let other): Issue.record("unexpected \(other) for \(bytes)")
            }
        }
    }
    for first in UInt8(0x80)...0xFF {
        for second in UInt8(0)...0xFF where second >= 0x80 || second.isLetterForTest {
            check([first, second])
        }
    }
    let interesting: [UInt8] = [
        0x61, 0x80, 0x8F, 0x90, 0x9F, 0xA0, 0xBF, 0xC0, 0xC1, 0xC2, 0xDF, 0xE0, 0xE1, 0xEC,
        0xED, 0xEE, 0xEF, 0xF0, 0xF1, 0xF3, 0xF4, 0xF5, 0xFF,
    ]
    var rng = SplitMix64(seed: 0x5EED)
    for _ in 0..<50_000 {
        let length = Int.random(in: 1...6, using: &rng)
        check((0..<length).map { _ in interesting.randomElement(using: &rng)! })
    }
}

extension UInt8 {
    /// Plain ASCII letters only, so no other rule (dot, wildcard, control) can fire first.
    var isLetterForTest: Bool { (0x61...0x7A).contains(self) }
}

