import Testing
@testable import Frames

/// Request target splitting and query decoding.
struct HTTPRequestTests {
    @Test(arguments: [
        ("/", "/", nil), ("/ws", "/ws", nil), ("/ws?", "/ws", ""), ("/a?b=c?d", "/a", "b=c?d"),
        ("*", "*", nil), ("/publish/a.b?x=1&y", "/publish/a.b", "x=1&y"),
    ] as [(String, String, String?)])
    func targetSplitsIntoPathAndQuery(target: String, path: String, query: String?) {
        let request = HTTPRequest(method: "GET", target: target)
        #expect(request.path == path)
        #expect(request.query == query)
    }

    @Test func settingTargetUpdatesPathAndQuery() {
        var request = HTTPRequest(method: "GET", target: "/a?x=1")
        request.target = "/b"
        #expect(request.path == "/b")
        #expect(request.query == nil)
    }

    @Test(arguments: [
        ("token=abc", "token", "abc"),
        ("a=1&token=x.y-z_w&token=second", "token", "x.y-z_w"),
        ("topic=a%2Fb%20c", "topic", "a/b c"),
        ("q=a+b", "q", "a b"),
        ("q=a%2Bb", "q", "a+b"),
        ("flag", "flag", ""),
        ("flag&x=1", "flag", ""),
        ("e=", "e", ""),
        ("k=%zz%4", "k", "%zz%4"),
        ("k=%E2%82%AC", "k", "€"),
        ("k=%FF", "k", "\u{FFFD}"),
        ("na%6De=v", "name", "v"),
        ("k=a=b", "k", "a=b"),
        ("&&k=1&&", "k", "1"),
    ] as [(String, String, String)])
    func queryItemDecodesFormEncoding(query: String, name: String, value: String) {
        let request = HTTPRequest(method: "GET", target: "/ws?" + query)
        #expect(request.queryItem(name) == value)
    }

    @Test func missingQueryItemIsNil() {
        #expect(HTTPRequest(method: "GET", target: "/ws").queryItem("token") == nil)
        #expect(HTTPRequest(method: "GET", target: "/ws?tok=1").queryItem("token") == nil)
        #expect(HTTPRequest(method: "GET", target: "/ws?Token=1").queryItem("token") == nil)
    }

    @Test func queryItemsListsAllInOrder() {
        let items = HTTPRequest(method: "GET", target: "/?a=1&b&a=2").queryItems()
        #expect(items.map(\.name) == ["a", "b", "a"])
        #expect(items.map(\.value) == ["1", "", "2"])
    }
}
