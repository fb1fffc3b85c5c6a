import BusProtocol
import Testing

/// `JSON.scanObject` reports raw keys and exact value ranges, and validates everything.
struct JSONScanObjectTests {
    @Test func membersComeInOrderWithExactTrimmedRanges() throws {
        let input = " { \"a\" : 1 , \"b\\n\":\t[ 1, {\"x\" : null} ] ,\"c\":\"s p\"\r\n,\"d\":{ }}\n"
        let members = try scanMembers(input).get()
        #expect(members.map(\.key) == ["a", "b\\n", "c", "d"])
        #expect(members.map(\.value) == ["1", "[ 1, {\"x\" : null} ]", "\"s p\"", "{ }"])
        let bytes = utf8(input)
        #expect(members[0].range == 9 ..< 10)
        #expect(members.allSatisfy { bytes[$0.range.lowerBound] != 0x20 && bytes[$0.range.upperBound - 1] != 0x20 })
    }

    @Test func emptyObjectHasNoMembers() throws {
        #expect(try scanMembers("{}").get().isEmpty)
        #expect(try scanMembers(" {\n} ").get().isEmpty)
    }

    static let notObjects = ["", "  ", "[]", "1", "\"{}\"", "null", "x{}"]

    @Test(arguments: notObjects)
    func nonObjectsAreRefused(_ input: String) {
        #expect(throws: JSONError.notObject) { try scanMembers(input).get() }
    }

    static let broken: [(String, JSONError)] = [
        ("{", .syntax(offset: 1, expected: .memberName)),
        ("{}x", .syntax(offset: 2, expected: .end)),
        ("{} {}", .syntax(offset: 3, expected: .end)),
        ("{\"a\":1,}", .syntax(offset: 7, expected: .memberName)),
        ("{\"a\" 1}", .syntax(offset: 5, expected: .colon)),
        ("{\"a\":1 \"b\":2}", .syntax(offset: 7, expected: .commaOrBrace)),
        ("{\"a\":[1,]}", .syntax(offset: 8, expected: .value)),
        ("{\"a\":01}", .syntax(offset: 6, expected: .commaOrBrace)),
        ("{a:1}", .syntax(offset: 1, expected: .memberName)),
        ("{\"a\":1", .syntax(offset: 6, expected: .commaOrBrace)),
        ("{\"a\":\"\\q\"}", .syntax(offset: 7, expected: .escape)),
    ]

    @Test(arguments: broken)
    func brokenObjectsReportTheFirstBadByte(_ input: String, _ error: JSONError) {
        #expect(throws: error) { try scanMembers(input).get() }
    }

    /// The envelope object is level 0, so a member value may nest `maxDepth` levels: this is
    /// Protocol.md's "deeper than 64 levels inside `data`".
    @Test func depthLimitAppliesToEachMemberValue() throws {
        let at64 = "{\"data\":" + String(repeating: "[", count: 64) + String(repeating: "]", count: 64) + "}"
        let at65 = "{\"data\":" + String(repeating: "[", count: 65) + String(repeating: "]", count: 65) + "}"
        #expect(try scanMembers(at64).get().count == 1)
        #expect(throws: JSONError.tooDeep(offset: 8 + 64, maxDepth: 64)) { try scanMembers(at65).get() }
        #expect(throws: JSONError.tooDeep(offset: 5, maxDepth: 0)) { try scanMembers("{\"a\":[]}", maxDepth: 0).get() }
        #expect(try scanMembers("{\"a\":1}", maxDepth: 0).get().count == 1)
    }

    @Test func hundredThousandNestedValuesInAMemberAreRefused() {
        let input = "{\"data\":" + String(repeating: "[", count: 100_000) + "}"
        #expect(throws: JSONError.tooDeep(offset: 8 + 64, maxDepth: 64)) { try scanMembers(input).get() }
    }

    @Test func callbackErrorsStopTheScan() {
        var seen = 0
        let bytes = utf8("{\"a\":1,\"b\":2,\"c\":3}")
        let result = bytes.withUnsafeBytes { buffer in
            Result { () throws(JSONError) in
                try JSON.scanObject(buffer) { _, _ throws(JSONError) in
                    seen += 1
                    if seen == 2 { throw JSONError.notObject }
                }
            }
        }
        #expect(throws: JSONError.notObject) { try result.get() }
        #expect(seen == 2)
    }
}
