import Testing
@testable import Topics

/// Rows: a candidate topic name and the error it must produce, or nil if it is valid.
let topicNameTable: [(String, TopicError?)] = [
    ("a", nil),
    ("a.b", nil),
    ("foo.bar.baz", nil),
    ("météo.paris", nil),
    ("日本.東京", nil),
    ("🚀.launch", nil),
    ("a-b_c.d~e.$SYS.x#y", nil),
    ("a\u{200B}b", nil),  // ZERO WIDTH SPACE is not White_Space
    ("a.b.c.d.e.f.g.h.i.j.k.l.m.n.o.p", nil),  // 16 segments
    ("", .empty),
    (".", .emptySegment),
    (".a", .emptySegment),
    ("a.", .emptySegment),
    ("a..b", .emptySegment),
    ("a b", .invalidCharacter),
    (" a", .invalidCharacter),
    ("a\tb", .invalidCharacter),
    ("a\nb", .invalidCharacter),
    ("a\r", .invalidCharacter),
    ("a\u{0}b", .invalidCharacter),
    ("a\u{7F}", .invalidCharacter),
    ("a\u{85}b", .invalidCharacter),  // NEXT LINE
    ("a\u{A0}b", .invalidCharacter),  // NO-BREAK SPACE
    ("a\u{2003}b", .invalidCharacter),  // EM SPACE
    ("a\u{2028}b", .invalidCharacter),  // LINE SEPARATOR
    ("a\u{3000}b", .invalidCharacter),  // IDEOGRAPHIC SPACE
    ("*", .wildcardInTopic),
    (">", .wildcardInTopic),
    ("a.*", .wildcardInTopic),
    ("a.>", .wildcardInTopic),
    ("a*b", .wildcardInTopic),
    ("a.b>", .wildcardInTopic),
    ("a.b.c.d.e.f.g.h.i.j.k.l.m.n.o.p.q", .tooDeep(max: 16)),
    (String(repeating: "x", count: 257), .tooLong(max: 256)),
]

@Test(arguments: topicNameTable)
func topicNameValidation(input: String, expected: TopicError?) {
    expect(throws: expected) { _ = try TopicName(input) }
    let fromBytes = Array(input.utf8)
    expect(throws: expected) {
        _ = try fromBytes.withUnsafeBytes { bytes in try TopicName(validating: bytes) }
    }
}

/// `#expect(throws:)` with an optional error: nil means "must not throw".
func expect(throws expected: TopicError?, sourceLocation: SourceLocation = #_sourceLocation,
            _ body: () throws -> Void) {
    do {
        try body()
        #expect(expected == nil, "expected \(String(describing: expected))", sourceLocation: sourceLocation)
    } catch {
        #expect(error as? TopicError == expected, sourceLocation: sourceLocation)
    }
}

@Test func topicNameAcceptsExactlyDefaultLimits() throws {
    let longest = String(repeating: "x", count: 256)
    #expect(try TopicName(longest).utf8Count == 256)
    let deepest = Array(repeating: "s", count: 16).joined(separator: ".")
    #expect(try TopicName(deepest).segmentCount == 16)
}

@Test func topicNameLimitsAreConfigurableAndCountBytes() throws {
    let limits = TopicLimits(maxLength: 5, maxDepth: 2)
    _ = try TopicName("abcde", limits: limits)
    expect(throws: .tooLong(max: 5)) { _ = try TopicName("abcdef", limits: limits) }
    // "ééé" is three characters but six UTF-8 bytes.
    expect(throws: .tooLong(max: 5)) { _ = try TopicName("ééé", limits: limits) }
    _ = try TopicName("a.b", limits: limits)
    expect(throws: .tooDeep(max: 2)) { _ = try TopicName("a.b.c", limits: limits) }
    expect(throws: .tooDeep(max: 2)) { _ = try TopicPattern("a.*.>", limits: limits) }
}

@Test func topicNameKeepsUnicodeSegments() throws {
    let topic = try TopicName("météo.paris")
    #expect(topic.segments == ["météo", "paris"])
    #expect(topic.segmentCount == 2)
    #expect(topic.utf8Count == 13)  // each é is two bytes
    #expect(topic.description == "météo.paris")
}

/// Rows: raw bytes that are not well-formed UTF-8 (Unicode table 3-7).
let malformedUTF8: [[UInt8]] = [
    [0xFF],
    [0x61, 0x80],  // stray continuation byte
    [0xC0, 0xAF],  // overlong "/"
    [0xC1, 0xBF],  // overlong
    [0xE0, 0x80, 0xAF],  // overlong 3-byte
    [0xED, 0xA0, 0x80],  // UTF-16 surrogate U+D800
    [0xF0, 0x8F, 0xBF, 0xBF],  // overlong 4-byte
    [0xF4, 0x90, 0x80, 0x80],  // past U+10FFFF
    [0xF5, 0x80, 0x80, 0x80],
    [0xC3],  // truncated at the end
    [0xE2, 0x82],
    [0xF0, 0x9F, 0x98],
    [0xC3, 0x2E, 0x61],  // truncated before a dot
]

@Test(arguments: malformedUTF8)
func topicNameRejectsMalformedUTF8Bytes(bytes: [UInt8]) {
    expect(throws: .invalidUTF8) {
        _ = try bytes.withUnsafeBytes { raw in try TopicName(validating: raw) }
    }
    expect(throws: .invalidUTF8) {
        _ = try bytes.withUnsafeBytes { raw in try TopicPattern(validating: raw) }
    }
}

@Test func topicNameFromBytesEqualsTopicNameFromString() throws {
    let bytes = Array("météo.paris".utf8)
    let fromBytes = try bytes.withUnsafeBytes { raw in try TopicName(validating: raw) }
    #expect(fromBytes == (try TopicName("météo.paris")))
    #expect(fromBytes.string == "météo.paris")
}

/// Guards the NATS-compatible identity: canonically equivalent but byte-different strings
/// are different topics (Swift's `String ==` would call them equal).
@Test func topicIdentityIsByUTF8BytesNotCanonicalEquivalence() throws {
    let composed = try TopicName("caf\u{E9}")
    let decomposed = try TopicName("cafe\u{301}")
    #expect(composed.string == decomposed.string)
    #expect(composed != decomposed)
    #expect(Set([composed, decomposed]).count == 2)
    #expect(!(try TopicPattern("caf\u{E9}")).matches(decomposed))
    #expect(!(try TopicPattern("caf\u{E9}.>")).matches(try TopicName("cafe\u{301}.x")))

    let trie = SubscriptionTrie<Int>()
    trie.insert(1, for: try TopicPattern("caf\u{E9}.*"))
    #expect(trie.match(try TopicName("cafe\u{301}.x")).isEmpty)
    #expect(trie.match(try TopicName("caf\u{E9}.x")).values == [1])
}

/// Pins every error's wire code and reason: clients and Protocol.md depend on them.
@Test(arguments: [
    (TopicError.empty, "empty"),
    (.tooLong(max: 256), "too_long"),
    (.tooDeep(max: 16), "too_deep"),
    (.emptySegment, "empty_segment"),
    (.invalidCharacter, "invalid_character"),
    (.wildcardInTopic, "wildcard_in_topic"),
    (.misplacedWildcard, "misplaced_wildcard"),
    (.invalidUTF8, "invalid_utf8"),
])
func topicErrorHasStableCodeAndReason(error: TopicError, reason: String) {
    #expect(error.code == "invalid_topic")
    #expect(error.reason == reason)
    #expect(!error.message.isEmpty)
}

@Test func topicErrorMessageNamesTheLimit() {
    #expect(TopicError.tooLong(max: 256).message.contains("256"))
    #expect(TopicError.tooDeep(max: 16).message.contains("16"))
}

/// The array entry point (percent-decoded HTTP paths) is the same validator as the others.
@Test func topicNameFromAnArrayValidatesUTF8() throws {
    #expect(throws: TopicError.invalidUTF8) { try TopicName(validating: [0x61, 0x2E, 0xFF]) }
    #expect(throws: TopicError.invalidUTF8) { try TopicName(validating: [0x61, 0xED, 0xA0, 0x80]) }
    #expect(throws: TopicError.emptySegment) { try TopicName(validating: Array("a..b".utf8)) }
    #expect(try TopicName(validating: Array("météo.paris".utf8)) == TopicName("météo.paris"))
}
