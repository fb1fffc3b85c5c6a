import Foundation
import Testing
@testable import Broker

/// The browser console at `GET /`. Its behaviour in a real browser is checked by
/// interop/browser_console.py (in .ci/run); these pin what that script and users rely on.
@Suite struct ConsolePageTests {
    @Test func rootServesTheConsoleAsOneSelfContainedPage() throws {
        let server = try LiveServer()
        defer { server.stop() }
        let reply = try HTTPResult(port: server.port, "/")
        #expect(reply.status == 200)
        #expect(reply.header("Content-Type") == "text/html; charset=utf-8")
        #expect(reply.body == ConsolePage.html)
        // Offline: nothing loaded from elsewhere (the favicon is inline, bus.js is this server's).
        for outside in ["http://", "https://", "<script src", "@import"] {
            #expect(!ConsolePage.html.contains(outside), "page refers to \(outside)")
        }
        #expect(ConsolePage.html.components(separatedBy: "<link").count == 2, "one <link>: the icon")
        #expect(ConsolePage.html.contains("<link rel=\"icon\" href=\"data:image/png;base64,"), "no request for /favicon.ico, no 404")
    }

    /// Relative, so that a proxy serving the console under a prefix serves its client too.
    @Test func pageImportsBusJSByARelativePath() throws {
        #expect(ConsolePage.html.contains("<script type=\"module\">"))
        #expect(ConsolePage.html.contains("import { connect } from \"./bus.js\";"))
        #expect(!ConsolePage.html.contains("new WebSocket("), "the page speaks through bus.js only")
        let server = try LiveServer()
        defer { server.stop() }
        #expect(try HTTPResult(port: server.port, "/bus.js").status == 200)
    }

    /// The ids the browser test drives; renaming one breaks it.
    @Test(arguments: ["url", "token", "connect", "disconnect", "state", "sub-topic", "subscribe", "subscriptions",
                      "pub-topic", "pub-kind", "pub-payload", "publish", "messages", "log", "stat-received",
                      "stat-connections", "stat-loops", "stat-max-message"])
    func pageHasStableElementIDs(id: String) {
        #expect(ConsolePage.html.contains("id=\"\(id)\""))
    }

    /// Payloads are untrusted: the page must never hand them to the HTML parser.
    @Test func pageNeverUsesInnerHTML() {
        #expect(!ConsolePage.html.contains("innerHTML"))
        #expect(!ConsolePage.html.contains("insertAdjacentHTML"))
        #expect(!ConsolePage.html.contains("document.write"))
    }
}
