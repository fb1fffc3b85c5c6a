import BusProtocol
import Testing

/// Cursors and cursor resumes (Protocol.md "Resuming a pattern").
struct CursorTests {
    @Test func aCursorRoundTripsThroughItsText() throws {
        let cursor = Cursor(epoch: "0123456789abcdef", offsets: [0, 7, UInt64.max])
        #expect(cursor.text == "0123456789abcdef.0.7.18446744073709551615")
        #expect(Cursor(parsing: cursor.text) == cursor)
    }

    @Test(arguments: [
        "", "0123456789abcdef", "0123456789abcdef.", "0123456789ABCDEF.1", "0123456789abcde.1", "0123456789abcdef.1.",
        "0123456789abcdef..1", "0123456789abcdef.01", "0123456789abcdef.-1", "0123456789abcdef.18446744073709551616",
        "0123456789abcdef.1 ", "0123456789abcdef:1", "0123456789abcdefg.1",
    ])
    func malformedCursorsAreRefused(text: String) {
        #expect(Cursor(parsing: text) == nil)
    }

    @Test func aCursorNamesAtMostMaxLoopsOffsets() {
        let most = "0123456789abcdef" + String(repeating: ".1", count: Cursor.maxLoops)
        #expect(Cursor(parsing: most)?.offsets.count == Cursor.maxLoops)
        #expect(Cursor(parsing: most + ".1") == nil)
    }

    @Test func aCursorResumeParsesWithItsPositions() throws {
        let text = #"{"type":"subscribe","topic":"chat.>","since":{"cursor":"0123456789abcdef.4.2","positions":[{"topic":"chat.a","epoch":"e1","seq":9}]}}"#
        guard case .success(let request) = parseEnvelope(Array(text.utf8)) else { Issue.record("refused"); return }
        #expect(request.resume == .cursor(Cursor(epoch: "0123456789abcdef", offsets: [4, 2]),
                                         positions: [ResumePosition(topic: "chat.a", epoch: "e1", seq: 9)]))
    }

    @Test func theClientEnvelopeOfACursorResumeParsesBackToIt() throws {
        let resume = ClientRequest.Resume.cursor(Cursor(epoch: "0123456789abcdef", offsets: [1, 2]),
                                                 positions: [ResumePosition(topic: "a.b", epoch: "x", seq: 3)])
        let bytes = ClientEnvelope.subscribe(topic: "a.>", id: "1", resume: resume)
        guard case .success(let request) = parseEnvelope(bytes) else { Issue.record("refused"); return }
        #expect(request.resume == resume)
    }

    @Test func checkpointsIsABoolean() throws {
        guard case .success(let on) = parseEnvelope(Array(#"{"type":"subscribe","topic":"a.>","checkpoints":true}"#.utf8)),
              case .success(let off) = parseEnvelope(Array(#"{"type":"subscribe","topic":"a.>"}"#.utf8)) else {
            Issue.record("refused")
            return
        }
        #expect(on.checkpoints && !off.checkpoints)
        guard case .failure(let error) = parseEnvelope(Array(#"{"type":"subscribe","topic":"a.>","checkpoints":"yes"}"#.utf8)) else {
            Issue.record("accepted")
            return
        }
        #expect(error.code == .badRequest)
    }

    @Test func tooManyPositionsAreRefused() {
        let one = #"{"topic":"a.b","epoch":"x","seq":1}"#
        let many = Array(repeating: one, count: ClientRequest.maxResumePositions + 1).joined(separator: ",")
        let text = #"{"type":"subscribe","topic":"a.>","since":{"cursor":"0123456789abcdef.1","positions":[\#(many)]}}"#
        guard case .failure(let error) = parseEnvelope(Array(text.utf8)) else { Issue.record("accepted"); return }
        #expect(error.message.contains("at most"))
    }

    @Test func checkpointEnvelopesParse() {
        let bytes = ServerEnvelope.checkpoint(topic: "chat.>", cursor: "0123456789abcdef.1.2")
        #expect(String(decoding: bytes, as: UTF8.self) == #"{"type":"checkpoint","topic":"chat.>","cursor":"0123456789abcdef.1.2"}"#)
        #expect(parseServer(bytes) == .checkpoint(topic: "chat.>", cursor: "0123456789abcdef.1.2"))
    }

    @Test func aResumeAckListsWhatWasLost() {
        let ack = ServerEnvelope.cursorAck(id: Array("1".utf8), topic: "chat.>", cursor: "0123456789abcdef.1", recovered: false,
                                           lost: [("chat.a", ("e", 5)), ("chat.b", nil)])
        #expect(String(decoding: ack, as: UTF8.self)
            == #"{"type":"ack","id":1,"op":"subscribe","topic":"chat.>","cursor":"0123456789abcdef.1","recovered":false,"lost":[{"topic":"chat.a","earliest":{"epoch":"e","seq":5}},{"topic":"chat.b"}]}"#)
    }
}
