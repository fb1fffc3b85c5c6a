import BusProtocol
import Foundation
import Frames
import Testing
@testable import Broker

/// The rows of Protocol.md "Bad input" (and the handshake-failure table) as test cases for
/// BadInputTests, and the tables themselves read from Protocol.md.

/// What the table promises for a row.
enum Answer: Hashable, Sendable, CustomStringConvertible {
    case http(Int)
    case close(UInt16)
    case error(String)
    case connectionClosed
    /// The server stops reading the connection (it asks faster than it reads).
    case readingPaused
    /// A resume acked with `recovered: false` and nothing replayed.
    case notRecovered
    /// A Server-Sent Events stream gets a named event, then ends.
    case streamEnds

    var description: String {
        switch self {
        case .readingPaused: "reading paused"
        case .http(let status): "HTTP \(status)"
        case .close(let code): "close \(code)"
        case .error(let code): "error \(code)"
        case .connectionClosed: "connection closed"
        case .notRecovered: "recovered: false"
        case .streamEnds: "the stream ends"
        }
    }
}

struct HandshakeCase: Sendable, CustomTestStringConvertible {
    let name: String
    let request: String
    let status: Int
    var header: String? = nil
    /// A refused upgrade closes; a plain 404 keeps the connection alive for the next request.
    var closes = true
    var configure: @Sendable (inout ServerConfig) -> Void = { _ in }
    var testDescription: String { name }
}

struct FrameCase: Sendable, CustomTestStringConvertible {
    let name: String
    let frames: [[UInt8]]
    let code: UInt16
    var configure: @Sendable (inout ServerConfig) -> Void = { _ in }
    /// Sent first on another connection, to use up a server-wide budget.
    var heldElsewhere: [UInt8]? = nil
    /// The upgrade offers permessage-deflate (which the server accepts).
    var deflate = false
    var testDescription: String { name }
}

struct EnvelopeCase: Sendable, CustomTestStringConvertible {
    let name: String
    let code: String
    /// The id the error must carry (nil: the request had no readable id).
    var id: String? = "\"bad\""
    var configure: @Sendable (inout ServerConfig) -> Void = { _ in }
    /// Sends the bad request (after any good ones it needs) and returns the answer to it.
    let send: @Sendable (BusClient) throws -> ServerMessage
    var testDescription: String { name }

    /// A case that sends one text frame and reads the next message.
    init(_ name: String, _ text: String, _ code: String, id: String? = "\"bad\"",
         configure: @escaping @Sendable (inout ServerConfig) -> Void = { _ in }) {
        self.init(name: name, code: code, id: id, configure: configure) { client in
            try client.socket.send(text: text)
            return try client.next()
        }
    }

    init(name: String, code: String, id: String? = "\"bad\"",
         configure: @escaping @Sendable (inout ServerConfig) -> Void = { _ in },
         send: @escaping @Sendable (BusClient) throws -> ServerMessage) {
        self.name = name
        self.code = code
        self.id = id
        self.configure = configure
        self.send = send
    }
}

struct HTTPCase: Sendable, CustomTestStringConvertible {
    let name: String
    let request: String
    let status: Int
    let code: String
    var keepsAlive = true
    var testDescription: String { name }
}

enum BadInputCases {
    static let key = "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
    static let upgrade = "Upgrade: websocket\r\nConnection: Upgrade\r\n"

    static func request(_ method: String = "GET", _ path: String = "/bus", host: String? = "127.0.0.1",
                        upgrade: String = upgrade, key: String = key, version: String = "13", extra: String = "") -> String {
        "\(method) \(path) HTTP/1.1\r\n" + (host.map { "Host: \($0)\r\n" } ?? "") + upgrade + key
            + "Sec-WebSocket-Version: \(version)\r\n" + extra + "\r\n"
    }

    static let handshakes: [HandshakeCase] = [
        HandshakeCase(name: "malformed request line", request: "GARBAGE\r\n\r\n", status: 400),
        HandshakeCase(name: "header without a colon", request: "GET /bus HTTP/1.1\r\nHost: 127.0.0.1\r\nNoColon\r\n\r\n", status: 400),
        // A regression test: on a loopback listener the origin policy answered 403 first.
        HandshakeCase(name: "HTTP/2 preface", request: "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", status: 400),
        HandshakeCase(name: "upgrade over HTTP/1.0", request: "GET /bus HTTP/1.0\r\nHost: 127.0.0.1\r\n" + upgrade + key
                        + "Sec-WebSocket-Version: 13\r\n\r\n", status: 400),
        HandshakeCase(name: "lowercase method", request: request("get"), status: 405, header: "Allow: GET"),
        HandshakeCase(name: "missing Host", request: request(host: nil), status: 400),
        HandshakeCase(name: "two Host headers", request: request(extra: "Host: 127.0.0.1\r\n"), status: 400),
        HandshakeCase(name: "HTTP publish without Host",
                      request: "POST /publish/t HTTP/1.1\r\nContent-Length: 1\r\n\r\n1", status: 400),
        HandshakeCase(name: "head over max-handshake-size", request: request(extra: "X-Pad: " + String(repeating: "a", count: 9000) + "\r\n"),
                      status: 431),
        HandshakeCase(name: "POST on /bus", request: request("POST"), status: 405, header: "Allow: GET"),
        HandshakeCase(name: "bad Sec-WebSocket-Key", request: request(key: "Sec-WebSocket-Key: short\r\n"), status: 400),
        HandshakeCase(name: "missing Sec-WebSocket-Key", request: request(key: ""), status: 400),
        HandshakeCase(name: "Connection without upgrade",
                      request: request(upgrade: "Upgrade: websocket\r\nConnection: keep-alive\r\n"), status: 400),
        HandshakeCase(name: "unsupported subprotocol list",
                      request: request(extra: "Sec-WebSocket-Protocol: mqtt, stomp\r\n"), status: 400),
        HandshakeCase(name: "missing Upgrade", request: request(upgrade: "Connection: Upgrade\r\n"), status: 426,
                      header: "Upgrade: websocket"),
        HandshakeCase(name: "Sec-WebSocket-Version 8", request: request(version: "8"), status: 426,
                      header: "Sec-WebSocket-Version: 13"),
        HandshakeCase(name: "forbidden Origin", request: request(extra: "Origin: http://evil.example\r\n"), status: 403),
        HandshakeCase(name: "non-loopback Host on a loopback listener",
                      request: request(host: "rebind.example", extra: "Origin: http://rebind.example\r\n"), status: 403),
        HandshakeCase(name: "unknown path", request: request("GET", "/nowhere"), status: 404, closes: false),
        // The bystander's two connections are all one address may hold.
        HandshakeCase(name: "too many connections from one address", request: request(), status: 429,
                      configure: { $0.maxConnectionsPerIP = 2 }),
        HandshakeCase(name: "server at its connection limit", request: request(), status: 503,
                      configure: { $0.maxConnections = 2 }),
    ]

    static func frame(_ opcode: Opcode, fin: Bool = true, _ payload: [UInt8]) -> [UInt8] {
        FrameEncoder.encode(opcode: opcode, fin: fin, payload: payload, maskKey: .random())
    }

    static func close(_ code: UInt16, _ reason: [UInt8] = []) -> [UInt8] {
        frame(.close, [UInt8(code >> 8), UInt8(code & 0xFF)] + reason)
    }

    static let json = Array(#"{"type":"publish","topic":"t","data":"#.utf8)

    /// A frame with RSV1 set: compressed, for permessage-deflate (RFC 7692 §6).
    static func compressed(_ opcode: Opcode, fin: Bool = true, _ payload: [UInt8]) -> [UInt8] {
        var bytes = frame(opcode, fin: fin, payload)
        bytes[0] |= 0x40
        return bytes
    }

    /// 1 MiB of zeros compressed: about 1 KiB on the wire.
    static let bomb = Deflater(level: 9).compress([UInt8](repeating: 0, count: 1 << 20))

    static let frames: [FrameCase] = [
        FrameCase(name: "unmasked client frame", frames: [[0x81, 0x02, 0x68, 0x69]], code: 1002),
        FrameCase(name: "reserved bit RSV1", frames: [[0xC1, 0x80, 0, 0, 0, 0]], code: 1002),
        FrameCase(name: "reserved bit RSV3", frames: [[0x91, 0x80, 0, 0, 0, 0]], code: 1002),
        FrameCase(name: "unknown data opcode 3", frames: [[0x83, 0x80, 0, 0, 0, 0]], code: 1002),
        FrameCase(name: "unknown control opcode 11", frames: [[0x8B, 0x80, 0, 0, 0, 0]], code: 1002),
        FrameCase(name: "fragmented ping", frames: [frame(.ping, fin: false, [1])], code: 1002),
        FrameCase(name: "fragmented close", frames: [frame(.close, fin: false, [0x03, 0xE8])], code: 1002),
        FrameCase(name: "126-byte ping", frames: [frame(.ping, [UInt8](repeating: 1, count: 126))], code: 1002),
        FrameCase(name: "126-byte close", frames: [close(1000, [UInt8](repeating: 0x61, count: 124))], code: 1002),
        FrameCase(name: "64-bit length with the top bit set", frames: [[0x82, 0xFF, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]], code: 1002),
        FrameCase(name: "reserved bit on a continuation",
                  frames: [frame(.binary, fin: false, [1]), [0xC0, 0x81, 0, 0, 0, 0, 2]], code: 1002),
        FrameCase(name: "stray continuation", frames: [frame(.continuation, Array("x".utf8))], code: 1002),
        FrameCase(name: "new text frame inside a fragmented message",
                  frames: [frame(.text, fin: false, json), frame(.text, Array("1}".utf8))], code: 1002),
        FrameCase(name: "new binary frame inside a fragmented message",
                  frames: [frame(.binary, fin: false, [1]), frame(.binary, [2])], code: 1002),
        FrameCase(name: "close code 1005", frames: [close(1005)], code: 1002),
        FrameCase(name: "close code 999", frames: [close(999)], code: 1002),
        FrameCase(name: "close code 2999", frames: [close(2999)], code: 1002),
        FrameCase(name: "close code 1015", frames: [close(1015)], code: 1002),
        FrameCase(name: "1-byte close payload", frames: [frame(.close, [0x03])], code: 1002),
        // RFC 6455 keeps 1007 for data within a message; a bad close reason is a bad close
        // frame (1002), which Autobahn 7.5.1 accepts and Protocol.md documents.
        FrameCase(name: "close reason not UTF-8", frames: [close(1000, [0xC0, 0xAF])], code: 1002),
        FrameCase(name: "text frame not UTF-8", frames: [frame(.text, [0xC0, 0xAF])], code: 1007),
        // "κ" is CE BA: the first fragment ends inside it and the next does not finish it.
        FrameCase(name: "fragmented text, bad UTF-8 at the boundary",
                  frames: [frame(.text, fin: false, json + [0x22, 0xCE]), frame(.continuation, Array("x\"}".utf8))], code: 1007),
        // Failing fast (RFC 6455 §8.1, Autobahn 6.4): the rest of the message never comes.
        FrameCase(name: "first fragment already not UTF-8", frames: [frame(.text, fin: false, json + [0x22, 0xFF])], code: 1007),
        FrameCase(name: "fragmented text ending inside a character",
                  frames: [frame(.text, fin: false, json + [0x22]), frame(.continuation, [0xCE])], code: 1007),
        FrameCase(name: "one frame over max_message_size",
                  frames: [frame(.binary, [UInt8](repeating: 1, count: 5000))], code: 1009,
                  configure: { $0.maxMessageSize = 4096 }),
        FrameCase(name: "fragments adding up past max_message_size",
                  frames: [frame(.binary, fin: false, [UInt8](repeating: 1, count: 3000)),
                           frame(.continuation, fin: false, [UInt8](repeating: 2, count: 1000)),
                           frame(.continuation, [UInt8](repeating: 3, count: 1000))], code: 1009,
                  configure: { $0.maxMessageSize = 4096 }),
        FrameCase(name: "fragment past the server's reassembly budget",
                  frames: [frame(.binary, fin: false, [UInt8](repeating: 1, count: 3000))], code: 1009,
                  configure: { $0.loops = 1; $0.maxMessageSize = 4096; $0.maxReassemblyBytes = 5000 },
                  heldElsewhere: frame(.binary, fin: false, [UInt8](repeating: 2, count: 3000))),
        // permessage-deflate (issue 17): the rows of Protocol.md's compressed-input lines.
        FrameCase(name: "RSV1 on a ping (deflate negotiated)", frames: [compressed(.ping, [1])], code: 1002, deflate: true),
        FrameCase(name: "RSV1 on a continuation (deflate negotiated)",
                  frames: [compressed(.text, fin: false, Array(Deflater().compress(json + [0x31, 0x7D]).prefix(3))),
                           compressed(.continuation, Array(Deflater().compress(json + [0x31, 0x7D]).dropFirst(3)))],
                  code: 1002, deflate: true),
        FrameCase(name: "compressed text that is not UTF-8 once inflated",
                  frames: [compressed(.text, Deflater().compress(json + [0x22, 0xC0, 0xAF, 0x22, 0x7D]))], code: 1007, deflate: true),
        FrameCase(name: "compressed data that does not inflate", frames: [compressed(.binary, [0xFF, 0xFF, 0xFF])], code: 1007, deflate: true),
        FrameCase(name: "data after the final deflate block",
                  frames: [compressed(.text, [0xF3, 0x48, 0xCD, 0xC9, 0xC9, 0x07, 0x00, 0x41, 0x42])], code: 1007, deflate: true),
        FrameCase(name: "inflate bomb: a 1 KiB frame inflating past max_message_size",
                  frames: [compressed(.binary, bomb)], code: 1009, configure: { $0.maxMessageSize = 65536 }, deflate: true),
    ]

    static let envelopes: [EnvelopeCase] = [
        EnvelopeCase("not JSON", "not json", "bad_json", id: nil),
        EnvelopeCase("a JSON array", "[1,2]", "bad_json", id: nil),
        // A frame that does not parse has no id to trust.
        EnvelopeCase("bad JSON in data", #"{"type":"publish","id":"bad","topic":"t","data":[1,}"#, "bad_json", id: nil),
        EnvelopeCase("data nested too deep",
                     #"{"type":"publish","id":"bad","topic":"t","data":"# + String(repeating: "[", count: 70)
                        + String(repeating: "]", count: 70) + "}", "bad_json", id: nil),
        EnvelopeCase("empty text frame", "", "bad_json", id: nil),
        EnvelopeCase("trailing bytes after the object", #"{"type":"subscribe","id":"bad","topic":"a"} x"#, "bad_json", id: nil),
        EnvelopeCase("two objects in one frame", #"{"type":"subscribe","topic":"a"}{"type":"subscribe","topic":"b"}"#, "bad_json", id: nil),
        EnvelopeCase("missing type", #"{"id":"bad","topic":"a"}"#, "bad_request"),
        EnvelopeCase("mistyped type", #"{"type":5,"id":"bad","topic":"a"}"#, "bad_request"),
        EnvelopeCase("negative last", #"{"type":"subscribe","id":"bad","topic":"a","last":-1}"#, "bad_request"),
        EnvelopeCase("since without seq", #"{"type":"subscribe","id":"bad","topic":"a","since":{"epoch":"x"}}"#, "bad_request"),
        EnvelopeCase("NUL in a topic", #"{"type":"subscribe","id":"bad","topic":"a\u0000b"}"#, "invalid_topic"),
        EnvelopeCase("unknown type", #"{"type":"dance","id":"bad"}"#, "unknown_type"),
        EnvelopeCase("missing topic", #"{"type":"subscribe","id":"bad"}"#, "bad_request"),
        EnvelopeCase("missing data", #"{"type":"publish","id":"bad","topic":"t"}"#, "bad_request"),
        EnvelopeCase("mistyped topic", #"{"type":"subscribe","id":"bad","topic":7}"#, "bad_request"),
        EnvelopeCase("duplicate key", #"{"type":"subscribe","id":"bad","topic":"a","topic":"b"}"#, "bad_request"),
        EnvelopeCase("since and last together", #"{"type":"subscribe","id":"bad","topic":"a","last":1,"since":{"epoch":"x","seq":1}}"#,
                     "bad_request"),
        EnvelopeCase(name: "malformed binary header", code: "bad_request", id: nil) { client in
            try client.socket.send(binary: [0x01, 0x00, 0x00])  // a topic length cut short
            return try client.next()
        },
        EnvelopeCase(name: "binary header with unknown flags", code: "bad_request", id: nil) { client in
            try client.socket.send(binary: [0x01, 0x80, 0x00, 0x01, 0x74])
            return try client.next()
        },
        EnvelopeCase("id longer than 64 bytes", #"{"type":"subscribe","id":""# + String(repeating: "i", count: 65) + #"","topic":"a"}"#,
                     "bad_request", id: nil),
        EnvelopeCase("id that is an object", #"{"type":"subscribe","id":{"a":1},"topic":"a"}"#, "bad_request", id: nil),
        EnvelopeCase("empty segment", #"{"type":"subscribe","id":"bad","topic":"a..b"}"#, "invalid_topic"),
        EnvelopeCase("whitespace in topic", #"{"type":"subscribe","id":"bad","topic":"a b"}"#, "invalid_topic"),
        EnvelopeCase("wildcard inside a segment", #"{"type":"subscribe","id":"bad","topic":"chat.room*"}"#, "invalid_topic"),
        EnvelopeCase("topic over max_topic_length", #"{"type":"subscribe","id":"bad","topic":""# + String(repeating: "a", count: 257) + "\"}",
                     "invalid_topic"),
        EnvelopeCase("topic over max_topic_depth", #"{"type":"publish","id":"bad","topic":""#
                        + Array(repeating: "a", count: 17).joined(separator: ".") + #"","data":1}"#, "invalid_topic"),
        // A regression test: an invalid pattern was answered not_subscribed, unlike subscribe.
        EnvelopeCase("unsubscribe from an invalid pattern", #"{"type":"unsubscribe","id":"bad","topic":"a.>.b"}"#, "invalid_topic"),
        EnvelopeCase(name: "binary publish to a bad topic", code: "invalid_topic") { client in
            try client.socket.send(binary: BinaryLayout.encodePublish(topic: "a..b", id: "bad", payload: [1]))
            return try client.next()
        },
        EnvelopeCase("publish to a pattern", #"{"type":"publish","id":"bad","topic":"a.*","data":1}"#, "invalid_topic"),
        EnvelopeCase("JSON payload over max_payload",
                     #"{"type":"publish","id":"bad","topic":"t","data":""# + String(repeating: "x", count: 3500) + "\"}",
                     "payload_too_large", configure: { $0.maxMessageSize = 4096 }),
        EnvelopeCase(name: "binary payload over max_payload", code: "payload_too_large", configure: { $0.maxMessageSize = 4096 }) { client in
            try client.socket.send(binary: BinaryLayout.encodePublish(topic: "t", id: "bad", payload: [UInt8](repeating: 1, count: 3500)))
            return try client.next()
        },
        EnvelopeCase("too many subscriptions",
                     #"{"type":"subscribe","id":"bad","topic":"one.more"}"#, "too_many_subscriptions",
                     configure: { $0.maxSubscriptions = 1 }),  // own.topic is the one
        EnvelopeCase("unsubscribe from a pattern not held", #"{"type":"unsubscribe","id":"bad","topic":"never.held"}"#, "not_subscribed"),
        EnvelopeCase("since on a pattern", #"{"type":"subscribe","id":"bad","topic":"a.*","since":{"epoch":"x","seq":1}}"#,
                     "resume_requires_topic"),
        EnvelopeCase("malformed cursor", #"{"type":"subscribe","id":"bad","topic":"a.>","since":{"cursor":"12.3"}}"#, "bad_request"),
        EnvelopeCase("invalid topic in resume positions",
                     #"{"type":"subscribe","id":"bad","topic":"a.>","since":{"cursor":"0123456789abcdef.0.0","positions":[{"topic":"a..b","epoch":"e","seq":1}]}}"#,
                     "invalid_topic"),
        EnvelopeCase(name: "publishing faster than the rate", code: "rate_limited",
                     configure: { $0.publishRate = 1; $0.publishBurst = 2 }) { client in
            for _ in 0..<2 { try client.publish("fast", json: "1") }
            try client.socket.send(text: #"{"type":"publish","id":"bad","topic":"fast","data":1}"#)
            return try client.reply(to: "\"bad\"")
        },
        EnvelopeCase(name: "subscribing faster than the rate", code: "rate_limited",
                     configure: { $0.subscribeRate = 4; $0.subscribeBurst = 2 }) { client in
            try client.subscribe("sub.one")  // own.topic took the first token
            try client.socket.send(text: #"{"type":"subscribe","id":"bad","topic":"sub.two"}"#)
            return try client.reply(to: "\"bad\"")
        },
    ]

    static let http: [HTTPCase] = [
        HTTPCase(name: "publish to a bad topic", request: HTTPPublishTests.post("bad..topic", "1"), status: 400, code: "invalid_topic"),
        HTTPCase(name: "publish to a pattern", request: HTTPPublishTests.post("a.*", "1"), status: 400, code: "invalid_topic"),
        HTTPCase(name: "publish bad JSON", request: HTTPPublishTests.post("t", "{nope"), status: 400, code: "bad_json"),
        HTTPCase(name: "publish with both Content-Length and chunked",
                 request: "POST /publish/t HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n",
                 status: 400, code: "bad_request", keepsAlive: false),
        HTTPCase(name: "publish a body over max_payload",
                 request: "POST /publish/t HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 99999999\r\n\r\n", status: 413,
                 code: "payload_too_large", keepsAlive: false),
        HTTPCase(name: "publish with two different Content-Lengths",
                 request: "POST /publish/t HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n12",
                 status: 400, code: "bad_request", keepsAlive: false),
        HTTPCase(name: "publish with a signed Content-Length",
                 request: "POST /publish/t HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: +1\r\n\r\n1",
                 status: 400, code: "bad_request", keepsAlive: false),
        HTTPCase(name: "publish with a chunk size that overflows",
                 request: "POST /publish/t HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n\r\nFFFFFFFFFFFFFFFFFFFF\r\n",
                 status: 413, code: "payload_too_large", keepsAlive: false),
        HTTPCase(name: "history with a bad limit", request: "GET /history/t?limit=x HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
                 status: 400, code: "bad_request"),
        HTTPCase(name: "history with a bad since", request: "GET /history/t?since=-3 HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
                 status: 400, code: "bad_request"),
        // Query numbers are ASCII digits only (issue 13: Int/UInt64(String) took a sign).
        HTTPCase(name: "history with a signed limit", request: "GET /history/t?limit=%2B5 HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
                 status: 400, code: "bad_request"),
        HTTPCase(name: "history with limit -0", request: "GET /history/t?limit=-0 HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
                 status: 400, code: "bad_request"),
        HTTPCase(name: "history with a signed since", request: "GET /history/t?epoch=e&since=%2B3 HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
                 status: 400, code: "bad_request"),
        HTTPCase(name: "history with since -0", request: "GET /history/t?epoch=e&since=-0 HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
                 status: 400, code: "bad_request"),
        HTTPCase(name: "history with a since past 2^64", request: "GET /history/t?epoch=e&since=18446744073709551616 HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
                 status: 400, code: "bad_request"),
        HTTPCase(name: "GET on /publish", request: "GET /publish/t HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", status: 405,
                 code: "method_not_allowed", keepsAlive: false),
        HTTPCase(name: "history with a body", request: "GET /history/t HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 2\r\n\r\n{}",
                 status: 400, code: "bad_request", keepsAlive: false),
        HTTPCase(name: "history of a pattern", request: "GET /history/a.* HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", status: 400,
                 code: "resume_requires_topic"),
        HTTPCase(name: "history of a bad topic", request: "GET /history/a..b HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", status: 400,
                 code: "invalid_topic"),
    ]

    /// Every answer some test in BadInputTests asserts. The single-case tests are listed by
    /// hand next to the test that asserts them.
    static var exercised: Set<Answer> {
        var answers = Set<Answer>()
        answers.formUnion(handshakes.map { .http($0.status) })
        answers.formUnion(frames.map { .close($0.code) })
        answers.formUnion(envelopes.map { .error($0.code) })
        answers.formUnion(http.map { .http($0.status) })
        answers.formUnion(http.map { .error($0.code) })
        answers.insert(.connectionClosed)  // requestHeadNotCompleteInTimeIsClosed, silentPeerIsClosedAfterIdleTimeout
        answers.insert(.close(1008))  // floodingOnAfterRateLimitedIsClosedWith1008, FloodTests.invalidEnvelopes…
        answers.insert(.readingPaused)  // FloodTests.pipelinedConsoleRequests… (bus_backlog_pauses_total)
        answers.insert(.http(200))  // FloodTests.aLongHistoryIsAnsweredInPagesThatFitTheSendQueue
        answers.formUnion([.error("slow_consumer"), .close(4008)])  // notReadingIsSlowConsumerThen4008
        answers.insert(.http(401))  // AuthTests.upgradeWithoutAValidTokenGets401 (and its HTTP publish case)
        answers.insert(.error("forbidden"))  // AuthTests: subscribe and publish outside the token's patterns
        answers.insert(.notRecovered)  // HardeningTests.resumeBeyondTheTopicsLastSeqReplaysNothing
        // EventStreamTests: slowStreamGetsANamedEvent…, expiredTokenEndsTheStreamWithANamedEvent
        answers.insert(.streamEnds)
        return answers
    }
}

/// Protocol.md's tables, read the way ErrorCodeTests reads its error codes.
enum ProtocolTables {
    struct Row {
        let text: String
        let answers: [Answer]
    }

    static func section(_ heading: String) throws -> Substring {
        let file = URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Protocol.md")
        let text = try String(contentsOf: file, encoding: .utf8)
        guard let start = text.range(of: "\n" + heading + "\n") else { return "" }
        let rest = text[start.upperBound...]
        return rest[..<(rest.range(of: "\n## ")?.lowerBound ?? rest.endIndex)]
    }

    /// Table rows (skipping the header and its rule) as their cells.
    static func tableRows(_ section: Substring) -> [[Substring]] {
        section.split(separator: "\n").filter { $0.hasPrefix("| ") }.dropFirst()
            .map { $0.split(separator: "|").map { $0.trimmingCharacters(in: .whitespaces)[...] } }
    }

    static func badInputRows() throws -> [Row] {
        try tableRows(section("## Bad input")).map { cells in
            let answer = String(cells.last ?? "")
            var answers: [Answer] = []
            answers += matches(#"HTTP (\d{3})"#, in: answer).compactMap { Int($0) }.map { .http($0) }
            answers += matches(#"close (\d{4})"#, in: answer).compactMap { UInt16($0) }.map { .close($0) }
            answers += matches(#"error `([a-z_]+)`"#, in: answer).map { .error($0) }
            if answer.contains("connection closed") { answers.append(.connectionClosed) }
            if answer.contains("stops reading") { answers.append(.readingPaused) }
            if answer.contains("`recovered: false`") { answers.append(.notRecovered) }
            if answer.contains("the stream ends") { answers.append(.streamEnds) }
            return Row(text: cells.joined(separator: " | "), answers: answers)
        }
    }

    /// The statuses of the handshake-failure table under "## Connecting".
    static func handshakeStatuses() throws -> [Int] {
        let section = try section("## Connecting")
        let rows = tableRows(section).filter { $0.count == 2 }
        #expect(rows.count >= 8, "handshake table rows: \(rows.count)")
        return rows.compactMap { Int($0[1].prefix(3)) }
    }

    static func matches(_ pattern: String, in text: String) -> [String] {
        guard let regex = try? NSRegularExpression(pattern: pattern) else { return [] }
        let range = NSRange(text.startIndex..., in: text)
        return regex.matches(in: text, range: range).compactMap { match in
            Range(match.range(at: 1), in: text).map { String(text[$0]) }
        }
    }
}
