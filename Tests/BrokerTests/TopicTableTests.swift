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
