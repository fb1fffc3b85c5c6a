import Testing
@testable import Topics

/// Rows: a candidate pattern and the error it must produce, or nil if it is valid.
let topicPatternTable: [(String, TopicError?)] = [
    ("a", nil),
    ("*", nil),
    (">", nil),
    ("a.*", nil),
    ("a.>", nil),
    ("*.>", nil),
    ("*.*", nil),
    ("a.*.c", nil),
    ("*.b.>", nil),
    ("météo.*", nil),
    ("", .empty),
    ("a..*", .emptySegment),
    ("a.*.", .emptySegment),
    (".>", .emptySegment),
    ("a*", .misplacedWildcard),
    ("*a", .misplacedWildcard),
    (">b", .misplacedWildcard),
    ("a.b>", .misplacedWildcard),
    ("**", .misplacedWildcard),
    ("*>", .misplacedWildcard),
    ("a.>>", .misplacedWildcard),
    ("a.>.b", .misplacedWildcard),
    (">.a", .misplacedWildcard),
    (">.>", .misplacedWildcard),
    ("a. *", .invalidCharacter),
    ("a.\u{A0}", .invalidCharacter),
    ("*.*.*.*.*.*.*.*.*.*.*.*.*.*.*.*.>", .tooDeep(max: 16)),
    (String(repeating: "*.", count: 128) + "x", .tooLong(max: 256)),
]

@Test(arguments: topicPatternTable)
func topicPatternValidation(input: String, expected: TopicError?) {
    expect(throws: expected) { _ = try TopicPattern(input) }
    let bytes = Array(input.utf8)
    expect(throws: expected) {
        _ = try bytes.withUnsafeBytes { raw in try TopicPattern(validating: raw) }
    }
}

@Test func literalPatternYieldsItsTopicName() throws {
    let literal = try TopicPattern("a.b")
    #expect(literal.isLiteral)
    #expect(literal.literal == (try TopicName("a.b")))
    #expect(!(try TopicPattern("a.*")).isLiteral)
    #expect((try TopicPattern("a.*")).literal == nil)
    #expect((try TopicPattern("a.>")).endsWithFullWildcard)
    #expect(TopicPattern(try TopicName("x.y")) == (try TopicPattern("x.y")))
    #expect((try TopicPattern("*.>")).segments == ["*", ">"])
}

/// Rows: pattern, topic, whether the pattern matches the topic.
let matchTable: [(String, String, Bool)] = [
    ("a.b", "a.b", true),
    ("a.b", "a.c", false),
    ("a.b", "a.b.c", false),
    ("a.b", "a", false),
    ("a.*", "a.b", true),
    ("a.*", "a", false),
    ("a.*", "a.b.c", false),
    ("a.>", "a", false),  // `>` needs at least one segment
    ("a.>", "a.b", true),
    ("a.>", "a.b.c", true),
    ("a.>", "b.c", false),
    (">", "a", true),
    (">", "a.b.c", true),
    ("*", "a", true),
    ("*", "a.b", false),
    ("*.b", "a.b", true),
    ("*.b", "a.c", false),
    ("*.*", "a.b", true),
    ("*.*", "a", false),
    ("*.>", "a", false),
    ("*.>", "a.b", true),
    ("a.*.c", "a.b.c", true),
    ("a.*.c", "a.b.d", false),
    ("a.*.>", "a.b", false),
    ("a.*.>", "a.b.c.d", true),
    ("météo.*", "météo.paris", true),
    ("météo.*", "meteo.paris", false),
]

@Test(arguments: matchTable)
func patternMatchesTopic(pattern: String, topic: String, expected: Bool) throws {
    let pattern = try TopicPattern(pattern)
    let topic = try TopicName(topic)
    #expect(pattern.matches(topic) == expected)
    let trie = SubscriptionTrie<Int>()
    trie.insert(7, for: pattern)
    #expect(trie.match(topic).values == (expected ? [7] : []))
}

/// Rows: pattern, candidate superset, whether every topic of the first matches the second.
let subsetTable: [(String, String, Bool)] = [
    ("a.b", "a.b", true),
    ("a.b", "a.*", true),
    ("a.*", "a.>", true),
    ("a.b", "a.>", true),
    ("a.>", ">", true),
    ("*.>", ">", true),
    (">", ">", true),
    ("a.*.c", "a.>", true),
    ("a.*", "*.*", true),
    ("*", ">", true),
    (">", "a.>", false),
    ("a.*", "a.b", false),
    ("a.>", "a.*", false),
    ("a", "a.>", false),
    ("a.b", "a", false),
    ("a", "a.b", false),
    ("a.*", "b.*", false),
    (">", "*", false),
    ("*.*", "a.*", false),
    ("a.b.c", "a.*", false),
]

@Test(arguments: subsetTable)
func patternIsSubset(pattern: String, other: String, expected: Bool) throws {
    #expect((try TopicPattern(pattern)).isSubset(of: try TopicPattern(other)) == expected)
}

/// Small-space generators shared by the exhaustive and randomized tests.
enum SmallSpace {
    /// Patterns of 1…3 segments over {a, b, *}, optionally ending in `>`.
    static let patterns: [TopicPattern] = {
        var strings: [[String]] = [[]]
        var all: [String] = []
        for _ in 1...3 {
            strings = strings.flatMap { prefix in ["a", "b", "*"].map { prefix + [$0] } }
            all += strings.map { $0.joined(separator: ".") }
        }
        all += [">"] + all.filter { $0.split(separator: ".").count < 3 }.map { $0 + ".>" }
        return all.map { try! TopicPattern($0) }
    }()

    /// Topics of 1…4 segments over {a, b, c}; `c` stands for "any segment no pattern names".
    static let topics: [TopicName] = {
        var strings: [[String]] = [[]]
        var all: [String] = []
        for _ in 1...4 {
            strings = strings.flatMap { prefix in ["a", "b", "c"].map { prefix + [$0] } }
            all += strings.map { $0.joined(separator: ".") }
        }
        return all.map { try! TopicName($0) }
    }()

    /// An independent, obviously-correct matcher over segment arrays.
    static func referenceMatches(_ pattern: ArraySlice<Substring>, _ topic: ArraySlice<Substring>) -> Bool {
        guard let head = pattern.first else { return topic.isEmpty }
        if head == ">" { return !topic.isEmpty }
        guard let topicHead = topic.first else { return false }
        guard head == "*" || head == topicHead else { return false }
        return referenceMatches(pattern.dropFirst(), topic.dropFirst())
    }
}

@Test func matchesAgreesWithReferenceOnEverySmallPair() {
    for pattern in SmallSpace.patterns {
        for topic in SmallSpace.topics {
            let expected = SmallSpace.referenceMatches(pattern.segments[...], topic.segments[...])
            #expect(pattern.matches(topic) == expected, "\(pattern) vs \(topic)")
        }
    }
}

/// `isSubset` against its definition: no small topic matched by one pattern and not the other.
@Test func isSubsetAgreesWithBruteForceOnEverySmallPair() {
    for pattern in SmallSpace.patterns {
        let matched = SmallSpace.topics.filter { pattern.matches($0) }
        for other in SmallSpace.patterns {
            let expected = matched.allSatisfy { other.matches($0) }
            #expect(pattern.isSubset(of: other) == expected, "\(pattern) ⊂ \(other)")
        }
    }
}

struct TopicPatternOverlapTests {
    @Test(arguments: [
        ("a.b", "a.b", true), ("a.b", "a.c", false), ("a.*", "a.b", true), ("a.*", "*.b", true), ("a.*", "b.*", false),
        ("a.>", "a.b.c", true), ("a.>", "a", false), (">", "x", true), ("a.*", "a.b.c", false), ("*.*", "a.>", true),
        ("a.b.>", "a.*.c", true), ("a.b", "a.b.c", false), ("a.*.c", "a.b.d", false),
    ])
    func patternsOverlapWhenSomeTopicMatchesBoth(first: String, second: String, expected: Bool) throws {
        let a = try TopicPattern(first), b = try TopicPattern(second)
        #expect(a.overlaps(b) == expected)
        #expect(b.overlaps(a) == expected)
    }
}
