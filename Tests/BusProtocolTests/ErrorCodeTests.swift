import BusProtocol
import Foundation
import Testing

/// The codes of Protocol.md "Error codes" are stable: this test pins every row of that table
/// to the enum, both ways, so the document and the code cannot drift apart.
struct ErrorCodeTests {
    static func documentedCodes() throws -> [String] {
        let protocolFile = URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Protocol.md")
        let text = try String(contentsOf: protocolFile, encoding: .utf8)
        guard let start = text.range(of: "## Error codes") else { return [] }
        let section = text[start.upperBound...].prefix { _ in true }
        let end = section.range(of: "\n## ")?.lowerBound ?? section.endIndex
        return section[..<end].split(separator: "\n")
            .filter { $0.hasPrefix("| `") }
            .compactMap { $0.split(separator: "`").dropFirst().first.map(String.init) }
    }

    @Test func everyCodeIsDocumentedAndEveryDocumentedCodeExists() throws {
        let documented = try Self.documentedCodes()
        #expect(!documented.isEmpty)
        #expect(Set(ErrorCode.allCases.map(\.rawValue)) == Set(documented))
    }

    @Test func codesKeepTheirStrings() {
        #expect(ErrorCode.badJSON.rawValue == "bad_json")
        #expect(ErrorCode.slowConsumer.rawValue == "slow_consumer")
        #expect(ErrorCode.resumeRequiresTopic.rawValue == "resume_requires_topic")
    }

    @Test func jsonErrorsAreAllBadJSON() {
        for error in [JSONError.syntax(offset: 0, expected: .value), .tooDeep(offset: 1, maxDepth: 64), .notObject] {
            #expect(error.code == .badJSON)
        }
    }
}
