import Testing
@testable import Broker

/// Every reason the server closes a WebSocket maps to a code Protocol.md's table documents.
@Suite struct CloseReasonTests {
    @Test(arguments: CloseReason.allCases)
    func everyReasonsCodeIsDocumented(_ reason: CloseReason) throws {
        let table = try ProtocolTables.section("## Close codes")
        #expect(table.contains("| \(reason.code.rawValue) |"), "close \(reason.code.rawValue) (\(reason)) is not in Protocol.md")
        #expect(!reason.text.isEmpty && reason.text.utf8.count <= 123, "a close reason fits a control frame")
    }
}
