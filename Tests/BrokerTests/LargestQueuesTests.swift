import TestSupport
import Testing
@testable import Broker

/// The send-queue budget's index (issue 13, defect 4): one of the largest holders, found
/// without a scan, checked against a brute-force model.
@Suite struct LargestQueuesTests {
    final class Holder: QueueHolder {
        let name: Int
        var queueClass: UInt8 = 0
        var queueClassSlot: Int32 = 0
        var bytes = 0
        init(_ name: Int) { self.name = name }
    }

    @Test func sizeClassesArePowersOfTwoFromSixtyFourKiB() {
        #expect(LargestQueues<Holder>.sizeClass(of: 0) == 0)
        #expect(LargestQueues<Holder>.sizeClass(of: 65_535) == 0)
        #expect(LargestQueues<Holder>.sizeClass(of: 65_536) == 1)
        #expect(LargestQueues<Holder>.sizeClass(of: 131_071) == 1)
        #expect(LargestQueues<Holder>.sizeClass(of: 131_072) == 2)
        #expect(LargestQueues<Holder>.sizeClass(of: 4 << 20) == 7)
        #expect(LargestQueues<Holder>.sizeClass(of: .max) == 47)
    }

    @Test func largestIsWithinAFactorOfTwoOfTheTrueLargestAfterRandomChanges() {
        var random = SplitMix64(seed: 13)
        let holders = (0..<64).map { Holder($0) }
        var index = LargestQueues<Holder>()
        for step in 0..<20_000 {
            let holder = holders[Int(random.next() % 64)]
            // Mostly small queues, some large, many emptied: the shapes a loop sees.
            switch random.next() % 4 {
            case 0: holder.bytes = 0
            case 1: holder.bytes = Int(random.next() % 70_000)
            default: holder.bytes = Int(random.next() % (64 << 20))
            }
            index.update(holder, bytes: holder.bytes)
            let asker = holders[Int(random.next() % 64)]
            let others = holders.filter { $0 !== asker && $0.bytes >= LargestQueues<Holder>.minimumBytes }
            let found = index.largest(excluding: asker)
            if let top = others.max(by: { $0.bytes < $1.bytes }) {
                guard let found else { Issue.record("step \(step): none found, \(top.bytes) held"); return }
                #expect(found !== asker)
                #expect(found.bytes * 2 > top.bytes, "step \(step): \(found.bytes) vs \(top.bytes)")
            } else {
                #expect(found == nil, "step \(step)")
            }
            #expect(index.count == holders.filter { $0.bytes >= LargestQueues<Holder>.minimumBytes }.count)
        }
    }

    @Test func anEmptiedQueueLeavesTheIndex() {
        var index = LargestQueues<Holder>()
        let a = Holder(1), b = Holder(2)
        index.update(a, bytes: 1 << 20)
        index.update(b, bytes: 2 << 20)
        #expect(index.largest(excluding: a) === b)
        index.update(b, bytes: 0)
        #expect(index.largest(excluding: a) == nil)
        #expect(index.largest(excluding: b) === a)
        index.update(a, bytes: 10)
        #expect(index.count == 0)
        #expect(a.queueClass == 0 && b.queueClass == 0)
    }
}
