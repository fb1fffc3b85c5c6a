import NATS
import TestSupport
import Testing

/// Parser behaviour on server byte streams. Every stream is fed whole, split in two at every
/// byte, one byte at a time and at seeded random split points: the operations must not depend
/// on how the bytes arrived.
struct NATSParserTests {
    static let info = "INFO {\"server_id\":\"X\",\"server_name\":\"n1\",\"version\":\"2.10.0\",\"headers\":true,\"max_payload\":1048576}\r\n"

    /// Parses `stream` every way and checks every way agrees; returns the operations.
    func parseEveryWay(_ text: String, parser: NATSParser = NATSParser()) throws -> [NATSOperation] {
        let bytes = Array(text.utf8)
        var whole = parser
        let expected = try whole.feed(bytes)
        for cut in 0...bytes.count {
            var split = parser
            let ops = try split.feed(bytes[..<cut]) + split.feed(bytes[cut...])
            #expect(ops == expected, "split at \(cut)")
            #expect(split.bufferedByteCount == whole.bufferedByteCount)
        }
        var single = parser
        var ops: [NATSOperation] = []
        for byte in bytes { ops += try single.feed([byte]) }
        #expect(ops == expected, "one byte at a time")
        var random = SplitMix64(seed: 8)
        for _ in 0..<20 {
            var chunked = parser
            var ops: [NATSOperation] = []
            var i = 0
            while i < bytes.count {
                let n = Int(random.next() % 7) + 1
                ops += try chunked.feed(bytes[i..<min(bytes.count, i + n)])
                i += n
            }
            #expect(ops == expected, "random chunks")
        }
        return expected
    }

    @Test func parsesInfoFields() throws {
        let ops = try parseEveryWay(Self.info)
        #expect(ops == [.info(NATSInfo(maxPayload: 1_048_576, headers: true, serverName: "n1"))])
    }

    /// INFO bodies a key search misreads: the fields are read from the top-level object only,
    /// never from inside a string or a nested object, and a duplicated key takes its last value.
    @Test(arguments: [
        (#"{"tag":"max_payload","server_name":"headers","max_payload":2048,"headers":true}"#, NATSInfo(maxPayload: 2048, headers: true, serverName: "headers")),
        (#"{"version":"\"max_payload\":64,\"headers\":true","server_name":"n1"}"#, NATSInfo(maxPayload: 1_048_576, headers: false, serverName: "n1")),
        (#"{"cluster":{"max_payload":64,"headers":true,"server_name":"inner"},"max_payload":2048}"#, NATSInfo(maxPayload: 2048, headers: false, serverName: nil)),
        (#"{"headers":false,"tags":["headers",true],"x":{"y":{"headers":true}}}"#, NATSInfo(maxPayload: 1_048_576, headers: false, serverName: nil)),
        (#"{"max_payload":64,"headers":false,"max_payload":128,"headers":true}"#, NATSInfo(maxPayload: 128, headers: true, serverName: nil)),
        (#"{"server_name":"a,b}\"c\u0064","max_payload" : 4096 ,"headers" : true}"#, NATSInfo(maxPayload: 4096, headers: true, serverName: #"a,b}"cd"#)),
        (#"{"max_payload":"64","headers":"true","server_name":7}"#, NATSInfo(maxPayload: 1_048_576, headers: false, serverName: nil)),
        (#"{"max_payload":64,"headers":true"#, NATSInfo(maxPayload: 1_048_576, headers: false, serverName: nil)),
    ])
    func readsInfoFieldsFromTheTopLevelObjectOnly(body: String, expected: NATSInfo) throws {
        #expect(try parseEveryWay("INFO \(body)\r\n") == [.info(expected)])
    }

    @Test func parsesManyOperationsPackedInOneRead() throws {
        let header = "NATS/1.0\r\nBus-Kind: binary\r\n\r\n"
        let packed = Self.info + "+OK\r\nPING\r\nPONG\r\nMSG bus.a.b 7 5\r\nhello\r\nMSG bus.x 2 reply.to 0\r\n\r\n"
            + "HMSG bus.bin 3 \(header.utf8.count) \(header.utf8.count + 3)\r\n\(header)abc\r\n-ERR 'Permissions Violation'\r\n"
        let ops = try parseEveryWay(packed)
        #expect(ops.count == 8)
        #expect(ops[1] == .ok && ops[2] == .ping && ops[3] == .pong)
        #expect(ops[4] == .message(NATSMessage(subject: "bus.a.b", sid: 7, payload: Array("hello".utf8))))
        #expect(ops[5] == .message(NATSMessage(subject: "bus.x", sid: 2, replyTo: "reply.to", payload: [])))
        #expect(ops[6] == .message(NATSMessage(subject: "bus.bin", sid: 3, headers: Array(header.utf8), payload: Array("abc".utf8))))
        #expect(ops[7] == .err("Permissions Violation"))
    }

    @Test func payloadMayContainCRLFAndOperationNames() throws {
        let payload = "PING\r\nMSG a 1 2\r\n"
        let ops = try parseEveryWay("MSG bus.t 1 \(payload.utf8.count)\r\n\(payload)\r\nPONG\r\n")
        #expect(ops == [.message(NATSMessage(subject: "bus.t", sid: 1, payload: Array(payload.utf8))), .pong])
    }

    @Test func verbsAreCaseInsensitiveAndTabsSeparate() throws {
        let ops = try parseEveryWay("ping\r\nmsg\tbus.t\t4\t2\r\nhi\r\n")
        #expect(ops == [.ping, .message(NATSMessage(subject: "bus.t", sid: 4, payload: Array("hi".utf8)))])
    }

    /// NATS subjects need not be UTF-8: the subject's own bytes are kept for the topic
    /// validator (issue 13), whatever the spacing, split anywhere.
    @Test func keepsTheSubjectsRawBytes() throws {
        let raw: [UInt8] = Array("MSG \t bus.a.".utf8) + [0xFF, 0xC0] + Array(" 9 2\r\nhi\r\nHMSG bus.\u{E9} 1 12 12\r\nNATS/1.0\r\n\r\n\r\n".utf8)
        var whole = NATSParser()
        let expected = try whole.feed(raw)
        #expect(expected.count == 2)
        guard case .message(let first) = expected.first, case .message(let second) = expected.last else { Issue.record("\(expected)"); return }
        #expect(first.subjectBytes == Array("bus.a.".utf8) + [0xFF, 0xC0])
        #expect(first.subject == "bus.a.\u{FFFD}\u{FFFD}" && first.sid == 9)
        #expect(second.subjectBytes == Array("bus.é".utf8) && second.subject == "bus.é")
        for cut in 0...raw.count {
            var split = NATSParser()
            #expect(try split.feed(raw[..<cut]) + split.feed(raw[cut...]) == expected, "split at \(cut)")
        }
    }

    @Test func keepsAnUnfinishedTail() throws {
        var parser = NATSParser()
        #expect(try parser.feed(Array("MSG bus.t 1 10\r\n01234".utf8)) == [])
        #expect(parser.bufferedByteCount == 21)
        #expect(try parser.feed(Array("56789\r\n".utf8)).count == 1)
        #expect(parser.bufferedByteCount == 0)
    }

    // MARK: malformed input and limits

    @Test(arguments: [
        ("FOO bar\r\n", NATSProtocolError.unknownOperation("FOO")),
        ("MSG bus.t\r\n", .malformed("MSG bus.t")),
        ("MSG bus.t x 3\r\n", .malformed("MSG bus.t x 3")),
        ("MSG bus.t 1 -3\r\n", .malformed("MSG bus.t 1 -3")),
        ("HMSG bus.t 1 9 3\r\n", .malformed("HMSG bus.t 1 9 3")),
        ("MSG bus.t 1 3\r\nabcXY", .malformed("message body not followed by CRLF")),
    ])
    func rejectsMalformedInput(_ input: String, _ error: NATSProtocolError) {
        var parser = NATSParser()
        #expect(throws: error) { try parser.feed(Array(input.utf8)) }
    }

    @Test func rejectsControlLineOverTheLimitBeforeItsEnd() {
        var parser = NATSParser(maxControlLine: 16)
        #expect(throws: NATSProtocolError.controlLineTooLong(max: 16)) {
            try parser.feed(Array("MSG a.very.long.subject".utf8))
        }
        var complete = NATSParser(maxControlLine: 16)
        #expect(throws: NATSProtocolError.controlLineTooLong(max: 16)) {
            try complete.feed(Array("MSG a.very.long.subject 1 0\r\n\r\n".utf8))
        }
    }

    @Test func rejectsPayloadOverMaxPayloadBeforeBuffering() {
        var parser = NATSParser(maxPayload: 4)
        #expect(throws: NATSProtocolError.payloadTooLarge(size: 5, max: 4)) { try parser.feed(Array("MSG bus.t 1 5\r\n".utf8)) }
    }

    @Test func randomGarbageNeverCrashes() {
        var random = SplitMix64(seed: 1)
        let alphabet = Array("MSG HMSG PING PONG INFO +OK -ERR 0123456789 bus.t \r\n{}".utf8)
        for _ in 0..<500 {
            var parser = NATSParser(maxControlLine: 64, maxPayload: 64)
            let count = Int(random.next() % 200)
            let bytes = (0..<count).map { _ in alphabet[Int(random.next() % UInt64(alphabet.count))] }
            _ = try? parser.feed(bytes)
            #expect(parser.bufferedByteCount <= 64 + 64 + 66 + 200)
        }
    }
}
