import Testing
import Topics
@testable import Broker

/// The parts of `TopicTable` that churn made hand-written (issue 18): they must say what the
/// plain versions said.
@Suite struct TopicTableTests {
    /// Epochs are hex digits written one by one; they must equal `String(_:radix:)` padded,
    /// or a forgotten topic would come back with an epoch its subscribers were not told.
    @Test(arguments: [0, 1, 0xF, 0x10, 0xABC, 0x0123_4567_89AB_CDEF, 0xF000_0000_0000_0000, .max] as [UInt64])
    func epochDigitsAreTheLowNibblesInPaddedLowercaseHex(value: UInt64) {
        for count in [15, 16] {
            let low = count == 16 ? value : value & ((1 << (4 * UInt64(count))) - 1)
            let plain = String(low, radix: 16)
            #expect(TopicTable.hexDigits(value, count: count) == String(repeating: "0", count: count - plain.count) + plain)
        }
    }

    /// Forgetting removes the state at its index: the table's other states and order stay.
    @Test func forgettingOneNeverPublishedStateKeepsTheOthers() throws {
        var table = TopicTable(capacity: 10)
        let names = try (0..<5).map { try TopicName("forget.t\($0)") }
        for name in names { _ = table.state(for: name, policy: HistoryPolicy(messages: 0, maxAge: 0)) }
        let forgotten = table.forgetIfNeverPublished(names[2])
        let again = table.forgetIfNeverPublished(names[2])
        #expect(forgotten && !again)
        #expect(table.count == 4 && table.peek(names[2]) == nil)
        for name in names where name != names[2] { #expect(table.peek(name) != nil) }
    }
}

/// A publish finds its topic's state by the bytes it brought (`existingState(spelled:)`): it
/// must find exactly what the name finds, and mark it used as `state(for:)` does.
@Suite struct TopicTableByteLookupTests {
    static let policy = HistoryPolicy(messages: 0, maxAge: 0)

    @Test(arguments: ["a", "a.b", "room.0123456789abcdef.members", "météo.paris", "日本.東京", "🚀.launch",
                      String(repeating: "x", count: 256)])
    func bytesFindTheStateTheNameFinds(text: String) throws {
        var table = TopicTable(capacity: 10)
        let name = try TopicName(text)
        Array(text.utf8).withUnsafeBytes { raw in
            let bytes = try! TopicBytes(validating: raw)
            #expect(table.existingState(spelled: bytes) == nil, "no state is made by a lookup")
            #expect(table.count == 0)
        }
        let state = table.state(for: name, policy: Self.policy).state
        _ = table.state(for: try TopicName("other.topic"), policy: Self.policy)
        Array(text.utf8).withUnsafeBytes { raw in
            #expect(table.existingState(spelled: try! TopicBytes(validating: raw)) === state)
        }
        #expect(table.peek(name) === state && table.count == 2)
    }

    /// Names that differ only in bytes a `String` would call equal, or in a prefix, are apart.
    @Test func bytesFindNoOtherName() throws {
        var table = TopicTable(capacity: 10)
        for text in ["caf\u{E9}", "a.b", "a.bc"] { _ = table.state(for: try TopicName(text), policy: Self.policy) }
        for text in ["cafe\u{301}", "a.b.c", "a.bd", "a"] {
            Array(text.utf8).withUnsafeBytes { raw in
                #expect(table.existingState(spelled: try! TopicBytes(validating: raw)) == nil, "\(text)")
            }
        }
    }

    /// A lookup by bytes marks the state recently used: the next eviction takes another.
    @Test func aLookupByBytesKeepsTheStateFromEviction() throws {
        var table = TopicTable(capacity: 2)
        let (a, b) = (try TopicName("lru.a"), try TopicName("lru.b"))
        let kept = table.state(for: a, policy: Self.policy).state
        _ = table.state(for: b, policy: Self.policy)
        Array("lru.a".utf8).withUnsafeBytes { raw in
            #expect(table.existingState(spelled: try! TopicBytes(validating: raw)) === kept)
        }
        let evicted = table.state(for: try TopicName("lru.c"), policy: Self.policy).evicted
        #expect(evicted?.topic == b && table.peek(a) === kept)
    }

    /// The dictionary key keeps a name's size: entries of a table of 100,000 topics stay small.
    @Test func aKeyIsNoLargerThanAName() {
        #expect(MemoryLayout<TopicTableKey>.stride == MemoryLayout<TopicName>.stride)
    }
}

/// `TopicStateList`, the one list behind the three orders, checked against an array.
@Suite struct TopicStateListTests {
    /// Every sequence of moves and removals over a few states leaves the list in the order an
    /// array kept the same way would have, walked from either end.
    @Test func movesAndRemovalsKeepTheOrderOfAnArray() throws {
        let states = try (0..<4).map { TopicState(topic: try TopicName("list.t\($0)"), epoch: "e", policy: HistoryPolicy(messages: 0, maxAge: 0)) }
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<200 {
            var list = TopicStateList<LeastRecentlyUsed>()
            var model: [TopicState] = []  // newest first
            for _ in 0..<12 {
                let state = states.randomElement(using: &generator)!
                if Bool.random(using: &generator) {
                    list.moveToNewest(state)
                    model.removeAll { $0 === state }
                    model.insert(state, at: 0)
                } else {
                    list.remove(state)
                    model.removeAll { $0 === state }
                }
                #expect(Self.walk(list) == model.map(ObjectIdentifier.init))
                #expect(list.oldest === model.last && list.newest === model.first)
                for state in states { #expect(list.contains(state) == model.contains { $0 === state }) }
            }
            for state in states { list.remove(state) }
        }
    }

    /// The publish order keeps its links in what a message brings: a state that never had one
    /// is not in it, and asking does not allocate that.
    @Test func askingAboutAStateWithoutMessagesAllocatesNothing() throws {
        let state = TopicState(topic: try TopicName("list.idle"), epoch: "e", policy: HistoryPolicy(messages: 10, maxAge: 0))
        var list = TopicStateList<LastPublished>()
        #expect(!list.contains(state))
        list.remove(state)
        #expect(!state.holdsPublishedState)
        list.moveToNewest(state)
        #expect(list.contains(state) && state.holdsPublishedState)
        list.remove(state)
    }

    private static func walk(_ list: TopicStateList<LeastRecentlyUsed>) -> [ObjectIdentifier] {
        var order: [ObjectIdentifier] = []
        var next = list.newest
        while let state = next {
            order.append(ObjectIdentifier(state))
            next = list.older(than: state)
        }
        return order
    }
}
