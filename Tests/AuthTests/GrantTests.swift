import Auth
import Topics
import Testing

/// Publish needs a matching pattern; subscribe needs the whole requested pattern to be a
/// subset of a granted one.
struct GrantTests {
    func grant(pub: [String] = [], sub: [String] = []) throws -> Grant {
        Grant(publish: try pub.map { try TopicPattern($0) }, subscribe: try sub.map { try TopicPattern($0) })
    }

    @Test(arguments: [
        ("a.>", "a.b", true), ("a.>", "a.b.c", true), ("a.>", "a.*", true), ("a.>", "a.>", true),
        ("a.>", ">", false), ("a.>", "a", false), ("a.>", "*.b", false), ("a.>", "*", false), ("a.>", "b.>", false),
        ("a.*", "a.b", true), ("a.*", "a.*", true), ("a.*", "a.>", false), ("a.*", "a.b.c", false),
        (">", ">", true), (">", "x.*.y", true), ("*", "x", true), ("*", "x.y", false), ("a.b", "a.b", true), ("a.b", "a.*", false),
    ])
    func subscribeNeedsASubset(_ granted: String, _ requested: String, _ allowed: Bool) throws {
        #expect(try grant(sub: [granted]).allowsSubscribe(to: TopicPattern(requested)) == allowed)
    }

    @Test(arguments: [
        ("a.>", "a.b", true), ("a.>", "a", false), ("a.*", "a.b", true), ("a.*", "a.b.c", false),
        (">", "x", true), ("a.b", "a.b", true), ("a.b", "a.c", false),
    ])
    func publishNeedsAMatch(_ granted: String, _ topic: String, _ allowed: Bool) throws {
        #expect(try grant(pub: [granted]).allowsPublish(to: TopicName(topic)) == allowed)
    }

    @Test func anyGrantedPatternWillDoAndNothingGrantsNothing() throws {
        let g = try grant(pub: ["x", "y.>"], sub: ["news.*", "chat.>"])
        #expect(try g.allowsPublish(to: TopicName("y.z")))
        #expect(try g.allowsSubscribe(to: TopicPattern("chat.room.1")))
        #expect(try !g.allowsSubscribe(to: TopicPattern("x")))
        let none = try grant()
        #expect(try !none.allowsPublish(to: TopicName("a")))
        #expect(try !none.allowsSubscribe(to: TopicPattern("a")))
    }
}
