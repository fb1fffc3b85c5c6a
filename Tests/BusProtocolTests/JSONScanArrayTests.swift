import BusProtocol
import Testing

/// `JSON.scanArray` reports each element's exact range and validates the whole text.
struct JSONScanArrayTests {
    static func elements(_ text: String) throws(JSONError) -> [String] {
        let bytes = Array(text.utf8)
        var out: [String] = []
        let result = bytes.withUnsafeBytes { raw -> Result<Void, JSONError> in
            do throws(JSONError) {
                try JSON.scanArray(raw) { range in out.append(String(decoding: raw[range], as: UTF8.self)) }
                return .success(())
            } catch {
                return .failure(error)
            }
        }
        try result.get()
        return out
    }

    @Test func elementsComeInOrderTrimmed() throws {
        #expect(try Self.elements(" [ \"a\" , 1,{\"b\":[2]} ,null]\n") == ["\"a\"", "1", "{\"b\":[2]}", "null"])
        #expect(try Self.elements("[]") == [])
        #expect(try Self.elements(" [ ] ") == [])
    }

    @Test(arguments: ["", "{}", "1", "[", "[1,]", "[1 2]", "[1]x", "[,1]", "\"[]\""])
    func nonArraysAndBrokenArraysAreRefused(_ text: String) {
        #expect(throws: JSONError.self) { try Self.elements(text) }
    }

    @Test func keysCompareUnescaped() {
        let plain = Array("exp".utf8), escaped = Array("\\u0065xp".utf8)
        #expect(plain.withUnsafeBytes { JSON.keyEquals($0, "exp") })
        #expect(escaped.withUnsafeBytes { JSON.keyEquals($0, "exp") })
        #expect(!plain.withUnsafeBytes { JSON.keyEquals($0, "ex") })
    }
}
