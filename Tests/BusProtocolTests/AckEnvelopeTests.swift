import BusProtocol
import Testing

/// `AckEnvelope` measures an ack, then writes it in place (the server writes its subscribe
/// acks straight into their frames, issue 18). Its bytes must be those of a plain encoding
/// built here piece by piece, with a naive escaper written from RFC 8259 §7 that shares no
/// code with the module, for awkward inputs; and it must write exactly the bytes it counted.
struct AckEnvelopeTests {
    /// RFC 8259 §7, one scalar at a time: `"`, `\` and controls escaped (short forms for
    /// LF, CR and tab, lowercase `\u00XX` otherwise), everything else as is.
    static func naiveQuoted(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20:
                let digits = Array("0123456789abcdef")
                out += "\\u00" + String(digits[Int(scalar.value >> 4)]) + String(digits[Int(scalar.value & 0xF)])
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }

    struct Case: Sendable, CustomTestStringConvertible {
        var id: String?
        var op = "subscribe"
        var topic: String
        var epoch: String?
        var seq: UInt64?
        var subscribers: Int?
        var recovered: Bool?
        var earliest: (epoch: String, seq: UInt64)?
        var testDescription: String { naiveQuoted(topic) }

        var plain: String {
            var text = #"{"type":"ack""#
            if let id { text += #","id":"# + id }
            text += #","op":"# + naiveQuoted(op) + #","topic":"# + naiveQuoted(topic)
            if let epoch { text += #","epoch":"# + naiveQuoted(epoch) }
            if let seq { text += #","seq":"# + String(seq) }
            if let subscribers { text += #","subscribers":"# + String(subscribers) }
            if let recovered {
                text += #","recovered":"# + String(recovered)
                if let earliest { text += #","earliest":{"epoch":"# + naiveQuoted(earliest.epoch) + #","seq":"# + String(earliest.seq) + "}" }
            }
            return text + "}"
        }

        var envelope: AckEnvelope {
            AckEnvelope(id: id.map { Array($0.utf8) }, op: op, topic: topic, epoch: epoch, seq: seq, subscribers: subscribers,
                        recovered: recovered, earliest: earliest)
        }
    }

    static let cases: [Case] = [
        Case(id: "1", topic: "chat.room1", epoch: "0123456789abcde", seq: 0),
        Case(id: #""q\"uote\\d""#, topic: #"a"b\c"#, epoch: #"e"\"#, seq: .max),
        Case(id: nil, op: "unsubscribe", topic: "\u{0}\u{1}\u{8}\u{C}\u{1F}\n\r\t\u{7F}/"),
        Case(id: "-12.5e300", op: "publish", topic: "é.中文.😀.\u{10FFFF}.\u{2028}", epoch: "ε", seq: 1 << 53 + 1, subscribers: .max),
        Case(id: "[1,{\"a\":null}]", op: "publish", topic: "t", epoch: "", seq: 9, subscribers: .min),
        Case(id: "7", topic: String(repeating: "\"", count: 300), epoch: "e", seq: 10, recovered: false, earliest: (#"x"y"#, .max)),
        Case(id: "8", topic: "", epoch: "e", seq: 99_999, recovered: true),
        Case(id: "\"\"", op: "\u{1B}[31m", topic: String(repeating: "ab\u{0}", count: 200)),
    ]

    @Test(arguments: cases)
    func writesWhatThePlainEncodingWrites(_ ack: Case) {
        let envelope = ack.envelope
        // Written into a buffer with guard bytes after it: exactly `count` bytes, no more.
        let written = [UInt8](unsafeUninitializedCapacity: envelope.count + 16) { buffer, initialized in
            buffer.initialize(repeating: 0xA5)
            envelope.write(to: UnsafeMutableRawPointer(buffer.baseAddress!))
            initialized = buffer.count
        }
        #expect(written.suffix(16) == Array(repeating: 0xA5, count: 16))
        #expect(String(decoding: written.prefix(envelope.count), as: UTF8.self) == ack.plain)
        let array = ServerEnvelope.ack(id: ack.id.map { Array($0.utf8) }, op: ack.op, topic: ack.topic, epoch: ack.epoch, seq: ack.seq,
                                       subscribers: ack.subscribers, recovered: ack.recovered, earliest: ack.earliest)
        #expect(array == Array(written.prefix(envelope.count)))
        #expect(validate(array))
    }
}
