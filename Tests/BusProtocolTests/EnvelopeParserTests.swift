import BusProtocol
import Testing

/// Every row of Protocol.md "Text envelopes", and the order in which its rules apply.
struct EnvelopeParserTests {
    struct Refusal: Sendable, CustomTestStringConvertible {
        var name: String
        var input: String
        var code: ErrorCode
        /// The id text the error must echo (raw JSON token), if any.
        var id: String? = nil
        var topic: String? = nil
        var message: String? = nil
        var testDescription: String { name }
    }

    static let deepData = String(repeating: "[", count: 65) + String(repeating: "]", count: 65)

    static let refusals: [Refusal] = [
        Refusal(name: "empty frame", input: "", code: .badJSON, message: "expected one JSON object"),
        Refusal(name: "array", input: "[1]", code: .badJSON),
        Refusal(name: "string", input: "\"publish\"", code: .badJSON),
        Refusal(name: "truncated object", input: #"{"type":"publish","id":1"#, code: .badJSON),
        Refusal(name: "two objects", input: #"{"type":"subscribe","topic":"a"}{}"#, code: .badJSON),
        Refusal(name: "invalid data", input: #"{"type":"publish","id":1,"topic":"a","data":[1,]}"#, code: .badJSON,
                message: "invalid JSON at byte 47"),
        Refusal(name: "data 65 deep", input: #"{"type":"publish","id":1,"topic":"a","data":"# + deepData + "}",
                code: .badJSON, message: "JSON nested deeper than 64 levels"),
        Refusal(name: "duplicate type", input: #"{"type":"publish","type":"subscribe","id":7,"topic":"a","data":1}"#,
                code: .badRequest, id: "7", topic: "a", message: "duplicate key \"type\""),
        Refusal(name: "duplicate id is not echoed", input: #"{"type":"subscribe","id":1,"id":2,"topic":"a"}"#,
                code: .badRequest, topic: "a", message: "duplicate key \"id\""),
        Refusal(name: "escaped-equal id", input: #"{"type":"subscribe","id":1,"\u0069d":2,"topic":"a"}"#,
                code: .badRequest, topic: "a", message: "duplicate key \"id\""),
        Refusal(name: "duplicate topic is not echoed", input: #"{"type":"subscribe","id":"x","topic":"a","topic":"b"}"#,
                code: .badRequest, id: "\"x\"", message: "duplicate key \"topic\""),
        Refusal(name: "duplicate data", input: #"{"type":"publish","topic":"a","data":1,"data":2}"#,
                code: .badRequest, topic: "a", message: "duplicate key \"data\""),
        Refusal(name: "duplicate unknown key", input: #"{"type":"subscribe","topic":"a","x":1,"y":2,"x":3}"#,
                code: .badRequest, topic: "a", message: "duplicate key \"x\""),
        Refusal(name: "escaped-equal unknown key", input: #"{"type":"subscribe","topic":"a","\u00e9":1,"é":2}"#,
                code: .badRequest, topic: "a", message: "duplicate key \"é\""),
        Refusal(name: "missing type", input: #"{"id":5,"topic":"a"}"#, code: .badRequest, id: "5", topic: "a",
                message: "missing field \"type\""),
        Refusal(name: "numeric type", input: #"{"type":1,"id":5,"topic":"a"}"#, code: .badRequest, id: "5", topic: "a",
                message: "field \"type\" must be a string"),
        Refusal(name: "null type", input: #"{"type":null,"topic":"a"}"#, code: .badRequest, topic: "a"),
        Refusal(name: "unknown type", input: #"{"type":"publsh","id":"p","topic":"a","data":1}"#, code: .unknownType,
                id: "\"p\"", topic: "a", message: "unknown type \"publsh\""),
        Refusal(name: "type is case sensitive", input: #"{"type":"Subscribe","topic":"a"}"#, code: .unknownType, topic: "a"),
        Refusal(name: "server type from client", input: #"{"type":"message","topic":"a"}"#, code: .unknownType, topic: "a"),
        Refusal(name: "unknown type beats bad id", input: #"{"type":"x","id":1.5}"#, code: .unknownType),
        // Regressions found by fuzz/targets/EnvelopeFuzz.swift: an escaped type was unescaped
        // twice, so the JSON string `\u0070ublish` (backslash, u, 0070…) read as "publish", and
        // a type ending in an escaped backslash and `u` made the second pass read past the frame.
        Refusal(name: "escaped backslash in type is unescaped once", input: #"{"type":"\\u0070ublish","topic":"a","data":1}"#,
                code: .unknownType, topic: "a"),
        Refusal(name: "type ending in escaped backslash and u", input: #"{"type":"\t\\u","topic":"a"}"#,
                code: .unknownType, topic: "a"),
        Refusal(name: "fractional id", input: #"{"type":"subscribe","id":1.5,"topic":"a"}"#, code: .badRequest, topic: "a",
                message: "id must be a string of at most 64 bytes or an integer"),
        Refusal(name: "exponent id", input: #"{"type":"subscribe","id":1e3,"topic":"a"}"#, code: .badRequest, topic: "a"),
        Refusal(name: "null id", input: #"{"type":"subscribe","id":null,"topic":"a"}"#, code: .badRequest, topic: "a"),
        Refusal(name: "object id", input: #"{"type":"subscribe","id":{},"topic":"a"}"#, code: .badRequest, topic: "a"),
        Refusal(name: "65-byte id", input: #"{"type":"subscribe","id":""# + String(repeating: "i", count: 65) + #"","topic":"a"}"#,
                code: .badRequest, topic: "a"),
        Refusal(name: "integer id beyond Int64", input: #"{"type":"subscribe","id":9223372036854775808,"topic":"a"}"#,
                code: .badRequest, topic: "a"),
        Refusal(name: "missing topic", input: #"{"type":"subscribe","id":3}"#, code: .badRequest, id: "3",
                message: "missing field \"topic\""),
        Refusal(name: "numeric topic", input: #"{"type":"unsubscribe","id":3,"topic":42}"#, code: .badRequest, id: "3",
                message: "field \"topic\" must be a string"),
        Refusal(name: "array topic", input: #"{"type":"publish","topic":["a"],"data":1}"#, code: .badRequest),
        Refusal(name: "lone surrogate topic", input: #"{"type":"subscribe","id":3,"topic":"\ud800"}"#, code: .invalidTopic, id: "3"),
        // Protocol.md: duplicate keys are refused everywhere, inside `since` too (issue 13).
        Refusal(name: "duplicate seq in since", input: #"{"type":"subscribe","id":1,"topic":"a","since":{"epoch":"x","seq":1,"seq":2}}"#,
                code: .badRequest, id: "1", topic: "a", message: "duplicate key \"seq\""),
        Refusal(name: "duplicate epoch in since", input: #"{"type":"subscribe","id":1,"topic":"a","since":{"epoch":1,"epoch":"x","seq":1}}"#,
                code: .badRequest, id: "1", topic: "a", message: "duplicate key \"epoch\""),
        Refusal(name: "escaped-equal seq in since", input: #"{"type":"subscribe","topic":"a","since":{"epoch":"x","seq":1,"s\u0065q":2}}"#,
                code: .badRequest, topic: "a", message: "duplicate key \"seq\""),
        Refusal(name: "duplicate unknown key in since", input: #"{"type":"subscribe","topic":"a","since":{"epoch":"x","seq":1,"z":0,"z":0}}"#,
                code: .badRequest, topic: "a", message: "duplicate key \"z\""),
        Refusal(name: "publish without data", input: #"{"type":"publish","id":-4,"topic":"chat.room1"}"#, code: .badRequest,
                id: "-4", topic: "chat.room1", message: "missing field \"data\""),
    ]

    @Test(arguments: refusals)
    func parserRefusesWithCodeIdAndTopic(_ row: Refusal) {
        let bytes = utf8(row.input)
        guard case .failure(let error) = parseEnvelope(bytes) else {
            Issue.record("accepted \(row.input)")
            return
        }
        #expect(error.code == row.code)
        #expect(text(bytes, error.id) == row.id)
        #expect(error.topic == row.topic)
        if let message = row.message { #expect(error.message == message) }
    }

    struct Acceptance: Sendable, CustomTestStringConvertible {
        var input: String
        var kind: ClientRequest.Kind
        var id: String?
        var topic: String
        var data: String?
        var testDescription: String { input }
    }

    static let acceptances: [Acceptance] = [
        Acceptance(input: #"{"type":"subscribe","id":1,"topic":"chat.>"}"#, kind: .subscribe, id: "1", topic: "chat.>"),
        Acceptance(input: #"{"type":"unsubscribe","id":3,"topic":"chat.>"}"#, kind: .unsubscribe, id: "3", topic: "chat.>"),
        Acceptance(input: #"{"type":"publish","id":4,"topic":"chat.room1","data":{"from":"ann","text":"hi"}}"#,
                   kind: .publish, id: "4", topic: "chat.room1", data: #"{"from":"ann","text":"hi"}"#),
        Acceptance(input: #"{"topic":"a","data":null,"type":"publish"}"#, kind: .publish, topic: "a", data: "null"),
        Acceptance(input: #"{"type":"subscribe","topic":"a","data":[1]}"#, kind: .subscribe, topic: "a"),
        Acceptance(input: #"{"type":"subscribe","topic":"a","future":{"x":[1,2]},"other":true}"#, kind: .subscribe, topic: "a"),
        Acceptance(input: #"{"type":"subscribe","id":"","topic":"a"}"#, kind: .subscribe, id: #""""#, topic: "a"),
        Acceptance(input: #"{"type":"subscribe","id":""# + String(repeating: "i", count: 64) + #"","topic":"a"}"#,
                   kind: .subscribe, id: "\"" + String(repeating: "i", count: 64) + "\"", topic: "a"),
        Acceptance(input: #"{"type":"subscribe","id":-9223372036854775808,"topic":"a"}"#, kind: .subscribe,
                   id: "-9223372036854775808", topic: "a"),
        Acceptance(input: #"{"type":"\u0070ublish","topic":"m\u00e9t\u00e9o.paris","data":"x"}"#, kind: .publish,
                   topic: "météo.paris", data: #""x""#),
        Acceptance(input: #"{"type":"subscribe","id":"a\"b","topic":"a"}"#, kind: .subscribe, id: #""a\"b""#, topic: "a"),
        Acceptance(input: #"{"type":"subscribe","topic":"not a valid topic..*"}"#, kind: .subscribe, topic: "not a valid topic..*"),
        Acceptance(input: #"{"type":"publish","topic":"a","data":"# + String(repeating: "[", count: 64)
                   + String(repeating: "]", count: 64) + "}", kind: .publish, topic: "a",
                   data: String(repeating: "[", count: 64) + String(repeating: "]", count: 64)),
    ]

    @Test(arguments: acceptances)
    func parserAcceptsValidRequests(_ row: Acceptance) throws {
        let bytes = utf8(row.input)
        let request = try parseEnvelope(bytes).get()
        #expect(request.kind == row.kind)
        #expect(text(bytes, request.id) == row.id)
        #expect(request.topic == row.topic)
        #expect(text(bytes, request.data) == row.data)
    }

    /// `data` is forwarded byte for byte: the range must cover exactly the publisher's text,
    /// inner whitespace, escapes and number spellings included, and nothing around it.
    @Test func dataRangeIsTheExactInputText() throws {
        let data = "{ \"b\" :\t[ 1.50E+3 ,\n\"\\u00e9\\/\" , { } ] ,\"a\":-0 }"
        let input = "\r\n{ \"type\" : \"publish\" , \"topic\":\"t\",\"data\" :  " + data + " \n}\t"
        let bytes = utf8(input)
        let request = try parseEnvelope(bytes).get()
        #expect(text(bytes, request.data) == data)
        for scalar in ["0", "-1.5e-7", "\"str\"", "true", "false", "null", "[]", "{}"] {
            let bytes = utf8("{\"type\":\"publish\",\"topic\":\"t\",\"data\": " + scalar + " }")
            #expect(text(bytes, try parseEnvelope(bytes).get().data) == scalar)
        }
    }

    @Test func maxDepthIsConfigurable() {
        let input = utf8(#"{"type":"publish","topic":"a","data":[[1]]}"#)
        #expect((try? parseEnvelope(input, maxDepth: 2).get()) != nil)
        #expect(throws: RequestError(code: .badJSON, message: "JSON nested deeper than 1 levels")) {
            try parseEnvelope(input, maxDepth: 1).get()
        }
    }

    @Test func hundredThousandNestedDataIsBadJSON() {
        let input = utf8(#"{"type":"publish","id":1,"topic":"a","data":"# + String(repeating: "[", count: 100_000))
        guard case .failure(let error) = parseEnvelope(input) else { Issue.record("accepted"); return }
        #expect(error.code == .badJSON)
    }

    /// Invalid JSON anywhere wins over field errors found earlier in the same frame.
    @Test func badJSONOutranksFieldErrors() {
        let input = utf8(#"{"type":"nope","id":1,"id":2,"topic":5,"x":tru}"#)
        guard case .failure(let error) = parseEnvelope(input) else { Issue.record("accepted"); return }
        #expect(error == RequestError(code: .badJSON, message: "invalid JSON at byte 46"))
    }

    @Test func longUnknownKeysAreShortenedInMessages() {
        let key = String(repeating: "k", count: 500)
        let input = utf8("{\"type\":\"subscribe\",\"topic\":\"a\",\"\(key)\":1,\"\(key)\":2}")
        guard case .failure(let error) = parseEnvelope(input) else { Issue.record("accepted"); return }
        #expect(error.message == "duplicate key \"" + String(repeating: "k", count: 64) + "…\"")
    }
}
