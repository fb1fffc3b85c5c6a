import Testing
import Frames
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

/// Guards the close echo written in place: every close frame the server builds is the one
/// `FrameEncoder` makes of its code and reason, an empty reason and no code included.
@Suite struct CloseFrameTests {
    @Test(arguments: [(CloseCode?.none, ""), (.normalClosure, ""), (.goingAway, ""), (.protocolError, "bad frame"),
                      (.policyViolation, String(repeating: "é", count: 80))])
    func closeFrameIsTheEncodersFrame(code: CloseCode?, reason: String) {
        let built = Connection.closeFrame(code: code, reason: reason).withUnsafeBytes { Array($0) }
        let payload = code.map { FrameEncoder.closePayload(code: $0, reason: reason) } ?? []
        #expect(built == FrameEncoder.encode(opcode: .close, payload: payload))
    }
}
