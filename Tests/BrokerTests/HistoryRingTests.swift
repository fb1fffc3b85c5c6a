import Testing
@testable import Broker
@testable import Topics

/// `HistoryRing` against an array model, over every small capacity and every mix of appends,
/// drops of the oldest and expiries (swift-collections' `withEveryDeque` idea): the ring wraps,
/// grows from a wrapped state and frees slots in every order a topic's history can see.
@Suite struct HistoryRingTests {
    static let topic = try! TopicName("ring.model")

    /// A frame of `seq`, `size` bytes long.
    static func frame(_ seq: UInt64, size: Int) -> OutboundBytes {
        OutboundBytes.make(count: size, stamp: DeliveryStamp(topic: topic, position: TopicPosition(epoch: "e", seq: seq),
                                                             kind: .binary, payload: 0..<0, arrival: 0, offset: seq)) { _ in }
    }

    @Test(arguments: 1...9)
    func ringMatchesAnArrayModelUnderEveryMixOfOperations(capacity: Int) {
        // Each step of a script of 10 appends a message; its two bits choose whether the
        // oldest is then dropped and whether everything published two steps back expires.
        for script in 0..<(1 << 10) {
            var ring = HistoryRing(capacity: capacity)
            var model: [(frame: OutboundBytes, time: UInt64)] = []
            for step in 0..<10 {
                let seq = UInt64(step + 1)
                let frame = Self.frame(seq, size: 3 + step)
                let freed = ring.append(frame, at: seq)
                var modelFreed = 0
                if model.count == capacity { modelFreed = model.removeFirst().frame.count }
                model.append((frame, seq))
                #expect(freed == modelFreed)
                if script & (1 << step) != 0 {
                    if step.isMultiple(of: 2) {
                        #expect(ring.dropOldest() == model.removeFirst().frame.count)
                    } else {
                        let cutoff = seq > 2 ? seq - 2 : 0
                        let expired = model.prefix { $0.time < cutoff }.reduce(0) { $0 + $1.frame.count }
                        model.removeAll { $0.time < cutoff }
                        #expect(ring.expire(before: cutoff) == expired)
                    }
                }
                #expect(ring.count == model.count)
                #expect(ring.bytes == model.reduce(0) { $0 + $1.frame.count })
                #expect(ring.firstSeq == model.first?.frame.stamp?.position.seq)
                #expect(ring.frames(from: 0, limit: .max).map(\.identity) == model.map(\.frame.identity))
                for (index, entry) in model.enumerated() { #expect(ring.frame(at: index) === entry.frame) }
            }
            #expect(ring.removeAll() == model.reduce(0) { $0 + $1.frame.count })
            #expect(ring.isEmpty && ring.bytes == 0)
        }
    }

    /// Another encoding's bytes count for a frame the ring still holds, and not for one it
    /// has let go (by seq, then by identity).
    @Test func chargeCountsOnlyAFrameStillHeld() {
        var ring = HistoryRing(capacity: 2)
        let first = Self.frame(1, size: 10)
        _ = ring.append(first, at: 1)
        _ = ring.append(Self.frame(2, size: 10), at: 2)
        #expect(ring.charge(first, bytes: 5) == 5 && ring.bytes == 25)
        #expect(ring.append(Self.frame(3, size: 10), at: 3) == 15, "the dropped frame frees its encoding too")
        #expect(ring.charge(first, bytes: 5) == 0)
        #expect(ring.charge(Self.frame(3, size: 10), bytes: 5) == 0, "same seq, another frame")
        #expect(ring.bytes == 20)
    }
}
