import Testing
import Topics
@testable import Broker

/// `MatchResult.forEachBorrowed` visits without reference counting: it must visit what
/// iterating visits, and leave every value's count as it found it.
@Suite struct MatchResultBorrowedTests {
    final class Value {
        let number: Int
        init(_ number: Int) { self.number = number }
    }

    @Test(arguments: [0, 1, 2, 17])
    func visitsEachValueOnceInOrder(count: Int) {
        let result = MatchResult(values: ContiguousArray((0..<count).map { Value($0) }))
        var seen: [Int] = []
        result.forEachBorrowed { seen.append($0.number) }
        #expect(seen == Array(0..<count))
    }

    /// The hub's case: a delivery drops a subscriber (as slow) while the result is being
    /// walked. The result keeps it alive for the walk, and once the result goes every value
    /// is freed: nothing was retained without a release, nor released without a retain.
    @Test func valuesLiveWhileTheResultDoesAndAreFreedAfter() {
        var owners: [Value]? = (0..<8).map { Value($0) }
        weak var first = owners![0]
        weak var last = owners![7]
        var result: MatchResult<Value>? = MatchResult(values: ContiguousArray(owners!))
        var total = 0
        result!.forEachBorrowed { value in
            owners = nil  // every other reference goes during the walk
            total += value.number
        }
        #expect(total == 28)
        #expect(first != nil && last != nil)
        result = nil
        #expect(first == nil && last == nil)
    }
}
