import TestSupport
import Frames
import Testing

/// The validator is checked against the standard library's decoder for whole inputs and
/// against a brute-force definition of "fail fast": it must reject at the first byte after
/// which no continuation bytes can make the input valid, and never earlier.
struct UTF8ValidatorTests {
    /// Whole-input validity according to the standard library.
    static func isValid(_ bytes: [UInt8]) -> Bool {
        String(validating: bytes, as: UTF8.self) != nil
    }

    /// One continuation byte from each range Unicode table 3-7 distinguishes (80–8F, 90–9F,
    /// A0–BF): every byte of a range is allowed after exactly the same leads.
    static let continuations: [UInt8] = [0x80, 0x90, 0xA0]

    /// Every completion of 0 to 3 continuation bytes, shortest first.
    static let completions: [[UInt8]] = {
        var all: [[UInt8]] = [[]]
        var level: [[UInt8]] = [[]]
        for _ in 1...3 {
            level = level.flatMap { prefix in continuations.map { prefix + [$0] } }
            all += level
        }
        return all
    }()

    /// Brute force: some valid UTF-8 string starts with `prefix`. Only the last 3 bytes can
    /// be an unfinished code point, so only completions of up to 3 bytes are needed.
    static func isViable(_ prefix: [UInt8]) -> Bool {
        completions.contains { isValid(prefix + $0) }
    }

    /// Feeds one byte at a time; returns the index of the byte that made `validate` fail.
    static func failIndex(_ bytes: [UInt8]) -> Int? {
        var validator = UTF8Validator()
        for (index, byte) in bytes.enumerated() {
            if ![byte].withUnsafeBytes({ validator.validate($0) }) { return index }
        }
        return nil
    }

    /// Validates `bytes` in the given pieces; true when valid and complete.
    static func accepts(_ bytes: [UInt8], cuts: [Int] = []) -> Bool {
        var validator = UTF8Validator()
        let bounds = [0] + cuts + [bytes.count]
        for (start, end) in zip(bounds, bounds.dropFirst()) {
            if !Array(bytes[start..<end]).withUnsafeBytes({ validator.validate($0) }) { return false }
        }
        return validator.isAtBoundary
    }

    /// Checks whole validity and the exact fail-fast position of `bytes`.
    static func checkAgainstReference(_ bytes: [UInt8], viable: inout [[UInt8]: Bool],
                                      sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(accepts(bytes) == isValid(bytes), "\(hex(bytes))", sourceLocation: sourceLocation)
        var expectedFail: Int?
        for end in 1...bytes.count {
            let prefix = Array(bytes[..<end])
            let ok = viable[prefix] ?? { let v = isViable(prefix); viable[prefix] = v; return v }()
            if !ok { expectedFail = end - 1; break }
        }
        #expect(failIndex(bytes) == expectedFail, "\(hex(bytes))", sourceLocation: sourceLocation)
    }

    static func hex(_ bytes: [UInt8]) -> String {
        bytes.map { String($0, radix: 16, uppercase: true) }.joined(separator: " ")
    }

    @Test func everyOneAndTwoByteSequenceMatchesStandardLibraryAndFailsFast() {
        var viable: [[UInt8]: Bool] = [:]
        for a in 0...255 {
            Self.checkAgainstReference([UInt8(a)], viable: &viable)
            for b in 0...255 {
                Self.checkAgainstReference([UInt8(a), UInt8(b)], viable: &viable)
            }
        }
    }

    /// Bytes at both ends of every class boundary of Unicode table 3-7.
    static let alphabet: [UInt8] = [0x00, 0x41, 0x7F, 0x80, 0x8F, 0x90, 0x9F, 0xA0, 0xBF, 0xC0, 0xC1, 0xC2,
                                    0xDF, 0xE0, 0xE1, 0xEC, 0xED, 0xEE, 0xEF, 0xF0, 0xF1, 0xF3, 0xF4, 0xF5, 0xFF]

    @Test func everyThreeAndFourByteSequenceOfBoundaryBytesMatchesStandardLibraryAndFailsFast() {
        var viable: [[UInt8]: Bool] = [:]
        for a in Self.alphabet {
            for b in Self.alphabet {
                for c in Self.alphabet {
                    Self.checkAgainstReference([a, b, c], viable: &viable)
                    // Four bytes only matter after a 4-byte lead; elsewhere they repeat shorter cases.
                    guard a >= 0xF0 else { continue }
                    for d in Self.alphabet {
                        Self.checkAgainstReference([a, b, c, d], viable: &viable)
                    }
                }
            }
        }
    }

    struct Case: Sendable, CustomTestStringConvertible {
        var name: String
        var bytes: [UInt8]
        /// Index of the byte that must make validation fail; nil when it never fails.
        var failsAt: Int?
        /// Whether the input is complete, valid UTF-8.
        var valid: Bool
        var testDescription: String { name }
    }

    /// Autobahn 6.x style cases with the byte where a fail-fast validator must stop.
    static let cases: [Case] = [
        Case(name: "κόσμε", bytes: [0xCE, 0xBA, 0xE1, 0xBD, 0xB9, 0xCF, 0x83, 0xCE, 0xBC, 0xCE, 0xB5], failsAt: nil, valid: true),
        Case(name: "κόσμε then surrogate ED A0 80", bytes: [0xCE, 0xBA, 0xE1, 0xBD, 0xB9, 0xCF, 0x83, 0xCE, 0xBC, 0xCE, 0xB5,
                                                            0xED, 0xA0, 0x80, 0x65, 0x64, 0x69, 0x74, 0x65, 0x64], failsAt: 12, valid: false),
        Case(name: "surrogate ED A0 80", bytes: [0xED, 0xA0, 0x80], failsAt: 1, valid: false),
        Case(name: "last surrogate ED BF BF", bytes: [0xED, 0xBF, 0xBF], failsAt: 1, valid: false),
        Case(name: "above U+10FFFF F4 90 80 80", bytes: [0xF4, 0x90, 0x80, 0x80], failsAt: 1, valid: false),
        Case(name: "overlong slash C0 AF", bytes: [0xC0, 0xAF], failsAt: 0, valid: false),
        Case(name: "overlong E0 80 AF", bytes: [0xE0, 0x80, 0xAF], failsAt: 1, valid: false),
        Case(name: "overlong F0 8F BF BF", bytes: [0xF0, 0x8F, 0xBF, 0xBF], failsAt: 1, valid: false),
        Case(name: "5-byte form F8 88 80 80 80", bytes: [0xF8, 0x88, 0x80, 0x80, 0x80], failsAt: 0, valid: false),
        Case(name: "lone continuation 80", bytes: [0x80], failsAt: 0, valid: false),
        Case(name: "lead then ASCII C2 41", bytes: [0xC2, 0x41], failsAt: 1, valid: false),
        Case(name: "FE and FF", bytes: [0x41, 0xFE, 0xFF], failsAt: 1, valid: false),
        Case(name: "truncated κό", bytes: [0xCE, 0xBA, 0xE1, 0xBD], failsAt: nil, valid: false),
        Case(name: "U+D7FF ED 9F BF", bytes: [0xED, 0x9F, 0xBF], failsAt: nil, valid: true),
        Case(name: "U+E000 EE 80 80", bytes: [0xEE, 0x80, 0x80], failsAt: nil, valid: true),
        Case(name: "noncharacter U+FFFF EF BF BF", bytes: [0xEF, 0xBF, 0xBF], failsAt: nil, valid: true),
        Case(name: "U+10FFFF F4 8F BF BF", bytes: [0xF4, 0x8F, 0xBF, 0xBF], failsAt: nil, valid: true),
        Case(name: "U+0000", bytes: [0x00], failsAt: nil, valid: true),
        Case(name: "empty", bytes: [], failsAt: nil, valid: true),
    ]

    @Test(arguments: cases)
    func autobahnStyleCasesFailAtTheFirstImpossibleByte(_ test: Case) {
        #expect(Self.failIndex(test.bytes) == test.failsAt)
        #expect(Self.accepts(test.bytes) == test.valid)
        #expect(Self.isValid(test.bytes) == test.valid, "the table itself agrees with the standard library")
        for split in 0...test.bytes.count {
            #expect(Self.accepts(test.bytes, cuts: [split]) == test.valid, "split at \(split)")
        }
    }

    /// Random mixes of ASCII runs, valid scalars of every length and stray bytes, split at
    /// every point, agree with the whole-input answer and with the standard library.
    @Test func randomStringsSplitAtEveryPointMatchStandardLibrary() {
        var generator = SplitMix64(seed: 6455)
        for round in 0..<600 {
            var bytes: [UInt8] = []
            for _ in 0..<Int.random(in: 0...12, using: &generator) {
                switch Int.random(in: 0..<10, using: &generator) {
                case 0..<3: bytes += (0..<Int.random(in: 1...20, using: &generator)).map { _ in UInt8.random(in: 0x20...0x7E, using: &generator) }
                case 3..<8:
                    let scalar = Unicode.Scalar(UInt32.random(in: 0x80...0x10FFFF, using: &generator)) ?? "\u{FFFD}"
                    bytes += Array(String(scalar).utf8)
                default: bytes.append(round % 3 == 0 ? 0x80 : UInt8.random(in: 0...255, using: &generator))
                }
            }
            let expected = Self.isValid(bytes)
            for split in 0...bytes.count {
                #expect(Self.accepts(bytes, cuts: [split]) == expected, "\(Self.hex(bytes)) split at \(split)")
            }
            if bytes.count > 2 {
                #expect(Self.accepts(bytes, cuts: Array(1..<bytes.count)) == expected, "\(Self.hex(bytes)) bytewise")
            }
        }
    }

    /// The 8-byte ASCII fast path must notice a bad byte in any lane of a word and at any
    /// distance from a piece's start.
    @Test func asciiFastPathCatchesABadByteAtEveryPosition() {
        let ascii = [UInt8](repeating: 0x61, count: 40)
        for position in ascii.indices {
            var bytes = ascii
            bytes[position] = 0xFF
            #expect(Self.failIndex(bytes) == position)
            #expect(!Self.accepts(bytes))
            for start in 0...7 where start <= position {
                var validator = UTF8Validator()
                #expect(!Array(bytes[start...]).withUnsafeBytes { validator.validate($0) })
            }
        }
        #expect(Self.accepts(ascii))
    }

    @Test func codePointSplitAcrossPiecesIsCarried() {
        let euro: [UInt8] = [0xE2, 0x82, 0xAC]
        var validator = UTF8Validator()
        #expect(Array(euro[..<1]).withUnsafeBytes { validator.validate($0) })
        #expect(!validator.isAtBoundary)
        #expect(Array(euro[1...]).withUnsafeBytes { validator.validate($0) })
        #expect(validator.isAtBoundary)
    }

    @Test func failureIsStickyUntilReset() {
        var validator = UTF8Validator()
        #expect(![UInt8(0xFF)].withUnsafeBytes { validator.validate($0) })
        #expect(![UInt8(0x41)].withUnsafeBytes { validator.validate($0) })
        #expect(!validator.isAtBoundary)
        validator.reset()
        #expect(validator.isAtBoundary)
        #expect([UInt8(0x41)].withUnsafeBytes { validator.validate($0) })
    }
}
