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
