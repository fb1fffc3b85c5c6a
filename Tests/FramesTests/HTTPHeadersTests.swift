import Testing
@testable import Frames

/// Header lookups: case-insensitive names, repeated lines, comma-separated token lists.
struct HTTPHeadersTests {
    static let sample = HTTPHeaders([
        ("Host", "example.com"),
        ("connection", "keep-alive, Upgrade"),
        ("Upgrade", "WebSocket"),
        ("X-Multi", "a"),
        ("x-multi", "b,  , C "),
        ("Empty", ""),
    ])

    @Test func subscriptReturnsFirstValueIgnoringNameCase() {
        #expect(Self.sample["host"] == "example.com")
        #expect(Self.sample["HOST"] == "example.com")
        #expect(Self.sample["X-MULTI"] == "a")
        #expect(Self.sample["Empty"] == "")
        #expect(Self.sample["Missing"] == nil)
    }

    /// Guards the in-place read the upgrade's origin check uses: the same value the subscript
    /// gives, and nil, not an empty value, when the field is absent.
    @Test func withFirstValueReadsWhatTheSubscriptGives() {
        for name in ["host", "X-MULTI", "Empty", "Missing", "Upgrade"] {
            let read = Self.sample.withFirstValue(name) { $0.map { String(decoding: $0, as: UTF8.self) } }
            #expect(read == Self.sample[name], "\(name)")
        }
    }

    @Test func valuesKeepsEveryLineInOrder() {
        #expect(Self.sample.values("X-Multi") == ["a", "b,  , C "])
        #expect(Self.sample.values("nope") == [])
    }

    @Test func tokensSplitTrimLowercaseAndDropEmpty() {
        #expect(Self.sample.tokens("x-multi") == ["a", "b", "c"])
        #expect(Self.sample.tokens("Connection") == ["keep-alive", "upgrade"])
        #expect(Self.sample.tokens("Empty") == [])
    }

    @Test(arguments: [
        ("upgrade", "Connection", true), ("UPGRADE", "connection", true), ("keep-alive", "Connection", true),
        ("websocket", "Upgrade", true), ("alive", "Connection", false), ("keep", "Connection", false),
        ("c", "X-Multi", true), ("", "X-Multi", false), ("upgrade", "Missing", false),
    ])
    func containsTokenMatchesWholeListElements(token: String, name: String, expected: Bool) {
        #expect(Self.sample.containsToken(token, in: name) == expected)
    }

    @Test func tokenListsTrimTabsAndToleratePartsLeftEmpty() {
        let headers = HTTPHeaders([("Connection", ",\tUpgrade\t,"), ("Upgrade", "web socket, websockets")])
        #expect(headers.containsToken("upgrade", in: "connection"))
        #expect(!headers.containsToken("websocket", in: "Upgrade"))
        #expect(!headers.containsToken("", in: "Connection"))
    }

    @Test func lineCountCountsRepeatedLinesInAnyCase() {
        #expect(Self.sample.lineCount("X-MULTI") == 2)
        #expect(Self.sample.lineCount("host") == 1)
        #expect(Self.sample.lineCount("Missing") == 0)
    }

    @Test func addKeepsOrderAndIterationYieldsPairs() {
        var headers = HTTPHeaders()
        #expect(headers.isEmpty)
        headers.add("A", "1")
        headers.add("B", "2")
        headers.add("a", "3")
        #expect(headers.count == 3)
        #expect(headers.map(\.name) == ["A", "B", "a"])
        #expect(headers.map(\.value) == ["1", "2", "3"])
        #expect(headers.contains("b"))
    }

    @Test func replaceOrAddAndRemove() {
        var headers = HTTPHeaders([("A", "1"), ("B", "2"), ("a", "3")])
        headers.replaceOrAdd("a", "9")
        #expect(headers == HTTPHeaders([("a", "9"), ("B", "2")]))
        headers.replaceOrAdd("C", "4")
        #expect(headers == HTTPHeaders([("a", "9"), ("B", "2"), ("C", "4")]))
        headers.remove("b")
        #expect(headers == HTTPHeaders([("a", "9"), ("C", "4")]))
    }

    @Test func equalityIsExactAndOrdered() {
        #expect(HTTPHeaders([("A", "1")]) == HTTPHeaders([("A", "1")]))
        #expect(HTTPHeaders([("A", "1")]) != HTTPHeaders([("a", "1")]))
        #expect(HTTPHeaders([("A", "1"), ("B", "2")]) != HTTPHeaders([("B", "2"), ("A", "1")]))
    }
}
