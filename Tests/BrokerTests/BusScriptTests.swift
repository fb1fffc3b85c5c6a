import Foundation
import Testing
@testable import Broker

/// `GET /bus.js`: the JavaScript client, embedded from clients/js/bus.js (its behaviour is
/// tested by `node --test clients/js/test/*.test.mjs` in .ci/run).
@Suite struct BusScriptTests {
    /// Guards against editing bus.js and forgetting to embed it: the broker would serve the
    /// old client while the node tests pass on the new one.
    @Test func embeddedScriptIsByteForByteTheSourceFile() throws {
        let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let file = try Data(contentsOf: repository.appendingPathComponent("clients/js/bus.js"))
        let embedded = Array(BusScript.source.utf8), source = Array(file)
        // Compared as one Bool: a failure names the first differing byte, not 30,000 numbers.
        let same = embedded == source
        let common = min(embedded.count, source.count)
        let firstDifference = (0..<common).first { embedded[$0] != source[$0] } ?? common
        #expect(same, """
            Sources/Broker/HTTP/BusScript.swift differs from clients/js/bus.js (\(embedded.count) vs \(source.count) bytes, \
            first difference at byte \(firstDifference)): run `make bus-js`
            """)
    }

    @Test func servedAsAModuleScriptAnyOriginMayLoadWithAStrongETag() throws {
        let server = try LiveServer()
        defer { server.stop() }
        let reply = try HTTPResult(port: server.port, "/bus.js")
        #expect(reply.status == 200)
        #expect(reply.header("Content-Type") == "text/javascript; charset=utf-8")
        #expect(reply.header("Cache-Control") == "no-cache")
        #expect(reply.header("Access-Control-Allow-Origin") == "*")
        let etag = try #require(reply.header("ETag"))
        #expect(etag.hasPrefix("\"") && etag.hasSuffix("\"") && etag.count == 34, "a strong tag: \(etag)")
        #expect(reply.body == BusScript.source)

        let head = try HTTPResult(port: server.port, "/bus.js", method: "HEAD")
        #expect(head.status == 200 && head.body.isEmpty)
        #expect(head.header("Content-Length") == String(BusScript.source.utf8.count))
        #expect(head.header("ETag") == etag)

        #expect(try HTTPResult(port: server.port, "/bus.js", method: "POST").status == 405)
    }

    @Test(arguments: [("same tag", true), ("weak form of the same tag", true), ("in a list", true), ("*", true),
                      ("another tag", false)])
    func ifNoneMatchAnswers304OnlyForTheCurrentTag(condition: String, expectsNotModified: Bool) throws {
        let server = try LiveServer()
        defer { server.stop() }
        let etag = try #require(try HTTPResult(port: server.port, "/bus.js").header("ETag"))
        let value = switch condition {
        case "same tag": etag
        case "weak form of the same tag": "W/" + etag
        case "in a list": "\"0123\", " + etag
        case "*": "*"
        default: "\"0123456789abcdef0123456789abcdef\""
        }
        let raw = try RawSocket(port: server.port)
        raw.send("GET /bus.js HTTP/1.1\r\nHost: 127.0.0.1\r\nIf-None-Match: \(value)\r\nConnection: close\r\n\r\n")
        let text = String(decoding: raw.read(timeout: 10, until: { _ in false }).bytes, as: UTF8.self)
        if expectsNotModified {
            #expect(text.hasPrefix("HTTP/1.1 304 "), "\(text.prefix(80))")
            #expect(text.contains("ETag: \(etag)\r\n"))
            #expect(text.hasSuffix("\r\n\r\n"), "no body")
            #expect(!text.contains("Content-Length"))
        } else {
            #expect(text.hasPrefix("HTTP/1.1 200 "), "\(text.prefix(80))")
        }
    }

    /// The console imports bus.js before it has asked anyone for a token.
    @Test func openWhenAuthIsOn() throws {
        let server = try LiveServer { config in
            config.auth.jwtSecret = String(repeating: "k", count: 32)
        }
        defer { server.stop() }
        #expect(try HTTPResult(port: server.port, "/bus.js").status == 200)
        #expect(try HTTPResult(port: server.port, "/history/x").status == 401, "auth is on for what reaches topics")
    }

    @Test func etagChangesWithTheBytes() {
        #expect(ScriptEndpoint(source: "a").etag != ScriptEndpoint(source: "b").etag)
        #expect(ScriptEndpoint(source: "a").etag == ScriptEndpoint(source: "a").etag)
    }
}
