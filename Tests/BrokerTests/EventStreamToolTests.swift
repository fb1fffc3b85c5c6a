import Foundation
import Glibc
import Testing
@testable import Broker

/// Server-Sent Events as real clients see them, against a server in a child process:
/// `curl -N`, and a browser's `EventSource` in headless Chromium (interop/browser_sse.py).
@Suite(.serialized) struct EventStreamToolTests {
    /// `curl -N` prints each event as it comes; it is stopped (SIGTERM) once it has shown them.
    @Test func curlStreamsEventsAsTheyArePublished() throws {
        try ExternalTool.require(ExternalTool.run("curl", ["--version"], timeout: 30).status == 0, "curl")
        let server = try ServerProcess(["--loops", "2"])
        defer { server.stop() }
        let curl = Process()
        curl.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        curl.arguments = ["curl", "-sS", "-N", "-i", "http://127.0.0.1:\(server.port)/sse/curl.a?topic=curl.b"]
        let output = Pipe()
        curl.standardOutput = output
        curl.standardError = output
        try curl.run()
        defer {
            // SIGKILL and a bounded wait (waitUntilExit after terminate() hung here once).
            kill(curl.processIdentifier, SIGKILL)
            _ = eventually { !curl.isRunning }
        }
        let reader = output.fileHandleForReading
        var text = ""
        func readUntil(_ needle: String) -> Bool {
            eventually(timeout: 10) {
                // Non-blocking: poll says whether curl wrote anything.
                var fds = pollfd(fd: reader.fileDescriptor, events: Int16(POLLIN), revents: 0)
                var chunk = [UInt8](repeating: 0, count: 65536)
                if poll(&fds, 1, 0) > 0 {
                    let n = chunk.withUnsafeMutableBytes { Glibc.read(reader.fileDescriptor, $0.baseAddress, $0.count) }
                    if n > 0 { text += String(decoding: chunk[0..<n], as: UTF8.self) }
                }
                return text.contains(needle)
            }
        }
        #expect(readUntil("\n\nid: t:"), "the subscribe's id: \(text)")
        #expect(try EventStreamTests.publish(server.port, "curl.a", "hello", type: "text/plain").status == 200)
        #expect(try EventStreamTests.publish(server.port, "curl.b", "{\"n\":\n2}").status == 200)
        #expect(readUntil(#""topic":"curl.b""#), "\(text)")
        #expect(text.hasPrefix("HTTP/1.1 200 OK\r\n") && text.contains("Content-Type: text/event-stream\r\n"), "\(text)")
        #expect(text.contains(#"data: {"type":"message","topic":"curl.a","epoch":""#) && text.contains(#","seq":1,"data":"hello"}"#))
        #expect(text.contains(#","seq":1,"data":{"n":"# + "\ndata: 2}}\nid: t:"), "\(text)")
    }

    /// A real `EventSource` is cut off (its connection closed from the server's side, through
    /// a relay the script controls), reconnects on its own with `Last-Event-ID`, and has every
    /// message exactly once, in order, including those published while it was away.
    @Test func browserEventSourceResumesAfterACut() throws {
        try ExternalTool.requirePython(["selenium"])
        try ExternalTool.require(FileManager.default.isExecutableFile(atPath: "/usr/bin/chromium")
                                 && FileManager.default.isExecutableFile(atPath: "/usr/bin/chromedriver"), "chromium and chromedriver")
        let server = try ServerProcess(["--loops", "2"])
        defer { server.stop() }
        let script = ExternalTool.packageFile("interop/browser_sse.py")
        let result = ExternalTool.run("python3", [script, "http://127.0.0.1:\(server.port)"], timeout: 180)
        #expect(result.status == 0, "\(result.output)")
        #expect(result.output.contains("browser sse:") && result.output.contains(" 0 failed"), "\(result.output)")
    }
}
