import BusProtocol
import Testing

/// Server envelopes are byte-exact copies of Protocol.md's examples, valid JSON, and read
/// back by `ServerMessage`.
struct ServerEnvelopeTests {
    static let epoch = "9f3ac2e17b5d4e08"

    func checkValid(_ bytes: [UInt8], sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(validate(bytes), "\(String(decoding: bytes, as: UTF8.self))", sourceLocation: sourceLocation)
    }

    @Test func messageIsPrefixDataSuffix() {
        let data = utf8(#"{"from":"ann","text":"hi"}"#)
        let envelope = ServerEnvelope.messagePrefix(topic: "chat.room1", epoch: Self.epoch, seq: 42) + data + [ServerEnvelope.messageSuffix]
        #expect(String(decoding: envelope, as: UTF8.self)
                == #"{"type":"message","topic":"chat.room1","epoch":"9f3ac2e17b5d4e08","seq":42,"data":{"from":"ann","text":"hi"}}"#)
        checkValid(envelope)
        #expect(parseServer(envelope) == .message(topic: "chat.room1", epoch: Self.epoch, seq: 42, data: data))
    }

    @Test func messageKeepsSeqExactUpTo2To53AndBeyond() {
        for seq: UInt64 in [0, 1, 9, 10, 1 << 53 - 1, .max] {
            let envelope = ServerEnvelope.messagePrefix(topic: "t", epoch: "e", seq: seq) + utf8("1") + [ServerEnvelope.messageSuffix]
            #expect(parseServer(envelope) == .message(topic: "t", epoch: "e", seq: seq, data: utf8("1")))
        }
    }

    static let acks: [(bytes: [UInt8], expected: String, parsed: ServerMessage)] = [
        (ServerEnvelope.ack(id: utf8("1"), op: "subscribe", topic: "chat.>"),
         #"{"type":"ack","id":1,"op":"subscribe","topic":"chat.>"}"#,
         .ack(id: "1", op: "subscribe", topic: "chat.>", epoch: nil, seq: nil, subscribers: nil)),
        (ServerEnvelope.ack(id: utf8("2"), op: "subscribe", topic: "chat.room1", epoch: epoch, seq: 41),
         #"{"type":"ack","id":2,"op":"subscribe","topic":"chat.room1","epoch":"9f3ac2e17b5d4e08","seq":41}"#,
         .ack(id: "2", op: "subscribe", topic: "chat.room1", epoch: epoch, seq: 41, subscribers: nil)),
        (ServerEnvelope.ack(id: utf8("3"), op: "unsubscribe", topic: "chat.>"),
         #"{"type":"ack","id":3,"op":"unsubscribe","topic":"chat.>"}"#,
         .ack(id: "3", op: "unsubscribe", topic: "chat.>", epoch: nil, seq: nil, subscribers: nil)),
        (ServerEnvelope.ack(id: utf8("4"), op: "publish", topic: "chat.room1", epoch: epoch, seq: 42, subscribers: 3),
         #"{"type":"ack","id":4,"op":"publish","topic":"chat.room1","epoch":"9f3ac2e17b5d4e08","seq":42,"subscribers":3}"#,
         .ack(id: "4", op: "publish", topic: "chat.room1", epoch: epoch, seq: 42, subscribers: 3)),
        (ServerEnvelope.ack(id: utf8(#""a\"b""#), op: "publish", topic: "t\"q", epoch: "e", seq: 0, subscribers: 0),
         #"{"type":"ack","id":"a\"b","op":"publish","topic":"t\"q","epoch":"e","seq":0,"subscribers":0}"#,
         .ack(id: #""a\"b""#, op: "publish", topic: "t\"q", epoch: "e", seq: 0, subscribers: 0)),
        (ServerEnvelope.ack(id: nil, op: "subscribe", topic: "x"),
         #"{"type":"ack","op":"subscribe","topic":"x"}"#,
         .ack(id: nil, op: "subscribe", topic: "x", epoch: nil, seq: nil, subscribers: nil)),
    ]

    @Test(arguments: acks)
    func ackMatchesProtocolExample(_ bytes: [UInt8], _ expected: String, _ parsed: ServerMessage) {
        #expect(String(decoding: bytes, as: UTF8.self) == expected)
        checkValid(bytes)
        #expect(parseServer(bytes) == parsed)
    }

    @Test func errorMatchesProtocolExample() {
        let bytes = ServerEnvelope.error(.invalidTopic, message: "topic has an empty segment", id: utf8("4"), topic: "chat..x")
        #expect(String(decoding: bytes, as: UTF8.self)
                == #"{"type":"error","id":4,"code":"invalid_topic","message":"topic has an empty segment","topic":"chat..x"}"#)
        checkValid(bytes)
        #expect(parseServer(bytes) == .error(code: "invalid_topic", message: "topic has an empty segment", id: "4",
                                             topic: "chat..x", raw: bytes))
        let bare = ServerEnvelope.error(.badJSON, message: "invalid JSON at byte 3\n\"x\"")
        #expect(String(decoding: bare, as: UTF8.self)
                == #"{"type":"error","code":"bad_json","message":"invalid JSON at byte 3\n\"x\""}"#)
        #expect(parseServer(bare) == .error(code: "bad_json", message: "invalid JSON at byte 3\n\"x\"", id: nil, topic: nil, raw: bare))
    }

    @Test(arguments: ErrorCode.allCases)
    func everyErrorCodeEncodesAndParses(_ code: ErrorCode) {
        let bytes = ServerEnvelope.error(code, message: "m")
        checkValid(bytes)
        #expect(parseServer(bytes) == .error(code: code.rawValue, message: "m", id: nil, topic: nil, raw: bytes))
    }

    @Test func slowConsumerMatchesProtocolExample() {
        let message = "send queue overflow (256 messages, 65536 bytes)"
        let bytes = ServerEnvelope.slowConsumer(message: message, positions: [("chat.room1", Self.epoch, 1207)])
        #expect(String(decoding: bytes, as: UTF8.self)
                == #"{"type":"error","code":"slow_consumer","message":"send queue overflow (256 messages, 65536 bytes)","positions":[{"topic":"chat.room1","epoch":"9f3ac2e17b5d4e08","seq":1207}]}"#)
        checkValid(bytes)
        #expect(parseServer(bytes) == .error(code: "slow_consumer", message: message, id: nil, topic: nil, raw: bytes))
        let several = ServerEnvelope.slowConsumer(message: "m", positions: [("a", "e1", 1), ("b", "e2", 2)])
        #expect(String(decoding: several, as: UTF8.self).hasSuffix(#""positions":[{"topic":"a","epoch":"e1","seq":1},{"topic":"b","epoch":"e2","seq":2}]}"#))
        checkValid(several)
        checkValid(ServerEnvelope.slowConsumer(message: "m", positions: []))
    }

    @Test func welcomeMatchesProtocolExample() {
        let bytes = ServerEnvelope.welcome(maxMessageSize: 1_048_576, maxPayload: 1_047_552, maxSubscriptions: 1000,
                                           maxTopicLength: 256, maxTopicDepth: 16, sendQueueMessages: 256,
                                           sendQueueBytes: 4_194_304, pingInterval: 25, idleTimeout: 60)
        #expect(String(decoding: bytes, as: UTF8.self)
                == #"{"type":"welcome","protocol":"bus.v1","max_message_size":1048576,"max_payload":1047552,"#
                + #""max_subscriptions":1000,"max_topic_length":256,"max_topic_depth":16,"#
                + #""send_queue_messages":256,"send_queue_bytes":4194304,"ping_interval":25,"idle_timeout":60}"#)
        checkValid(bytes)
        #expect(parseServer(bytes) == .welcome(fields: [
            "protocol": "\"bus.v1\"", "max_message_size": "1048576", "max_payload": "1047552",
            "max_subscriptions": "1000", "max_topic_length": "256", "max_topic_depth": "16",
            "send_queue_messages": "256", "send_queue_bytes": "4194304", "ping_interval": "25", "idle_timeout": "60",
        ]))
    }

    @Test func envelopesStayValidForHostileTexts() {
        let hostile = "\"\\\u{0}\u{1F}\n\u{7F}é😀</x>\u{2028}"
        let envelopes = [
            ServerEnvelope.messagePrefix(topic: hostile, epoch: hostile, seq: 1) + utf8("null") + [ServerEnvelope.messageSuffix],
            ServerEnvelope.ack(id: utf8("\"i\""), op: hostile, topic: hostile, epoch: hostile, seq: 1, subscribers: -1),
            ServerEnvelope.error(.internalError, message: hostile, id: utf8("-5"), topic: hostile),
            ServerEnvelope.slowConsumer(message: hostile, positions: [(hostile, hostile, 3)]),
        ]
        for bytes in envelopes { checkValid(bytes) }
        #expect(parseServer(envelopes[0]) == .message(topic: hostile, epoch: hostile, seq: 1, data: utf8("null")))
        #expect(parseServer(envelopes[1]) == .ack(id: "\"i\"", op: hostile, topic: hostile, epoch: hostile, seq: 1, subscribers: -1))
    }
}
