import Dispatch
import Glibc
import Synchronization
import Testing
@testable import Broker

/// Every capacity growth, start slot and partial write: the ring must hand out exactly the
/// bytes appended, in order, whatever the history (swift-collections' withEveryDeque idea).
@Suite struct SendQueueTests {
    static func bytes(_ tag: UInt8, _ count: Int) -> OutboundBytes {
        OutboundBytes.copying([UInt8](repeating: tag, count: count))
    }

    /// Drains the queue through iovecs the way a connection does, `chunk` bytes per "write".
    static func drain(_ queue: inout SendQueue, chunk: Int, iovCapacity: Int = 3) -> [UInt8] {
        let vectors = UnsafeMutablePointer<iovec>.allocate(capacity: iovCapacity)
        defer { vectors.deallocate() }
        var out: [UInt8] = []
        while !queue.isEmpty {
            let n = queue.fill(vectors, capacity: iovCapacity)
            var budget = chunk
            var written = 0
            for i in 0..<n where budget > 0 {
                let take = min(budget, vectors[i].iov_len)
                let base = vectors[i].iov_base!.assumingMemoryBound(to: UInt8.self)
                out.append(contentsOf: UnsafeBufferPointer(start: base, count: take))
                budget -= take
                written += take
                if take < vectors[i].iov_len { break }
            }
            queue.consume(written)
        }
        return out
    }

    @Test(arguments: [1, 2, 3, 7, 64])
    func queueDeliversEveryByteInOrderWhateverTheWriteSize(chunk: Int) {
        for warmup in 0..<6 {
            for count in 0..<12 {
                var queue = SendQueue()
                // Shift the ring's start slot with appended-and-drained entries first.
                for w in 0..<warmup { queue.append(Self.bytes(UInt8(200 + w), 1)) }
                _ = Self.drain(&queue, chunk: 1000)
                var expected: [UInt8] = []
                for i in 0..<count {
                    let length = (i * 5) % 9 + 1
                    queue.append(Self.bytes(UInt8(i), length))
                    expected += [UInt8](repeating: UInt8(i), count: length)
                }
                #expect(queue.byteCount == expected.count)
                #expect(Self.drain(&queue, chunk: chunk) == expected)
                #expect(queue.isEmpty && queue.byteCount == 0)
            }
        }
    }

    @Test func dropUnstartedKeepsTheHalfWrittenFrame() {
        var queue = SendQueue()
        queue.append(Self.bytes(1, 10))
        queue.append(Self.bytes(2, 10))
        queue.append(Self.bytes(3, 10))
        queue.consume(4)
        let released = queue.dropUnstarted()
        #expect(released == 20)
        #expect(queue.count == 1 && queue.byteCount == 6)
        #expect(Self.drain(&queue, chunk: 100) == [UInt8](repeating: 1, count: 6))
    }

    @Test func dropUnstartedWithNothingWrittenEmptiesTheQueue() {
        var queue = SendQueue()
        queue.append(Self.bytes(1, 10))
        queue.append(Self.bytes(2, 10))
        #expect(queue.dropUnstarted() == 20)
        #expect(queue.isEmpty)
    }

    @Test func overflowCheckCountsMessagesAndBytes() {
        var queue = SendQueue()
        queue.append(Self.bytes(1, 100))
        #expect(queue.wouldOverflow(adding: 1, maxMessages: 1, maxBytes: 1000))
        #expect(queue.wouldOverflow(adding: 901, maxMessages: 10, maxBytes: 1000))
        #expect(!queue.wouldOverflow(adding: 900, maxMessages: 10, maxBytes: 1000))
    }

    /// Encode once, share the bytes (STYLE.md): a queue holds the publisher's very object and
    /// its iovec points at that object's storage, so N subscribers cost N references, not N
    /// copies. Equal bytes would not show it; identity and addresses do.
    @Test func sharedBytesAreOneObjectAcrossQueues() {
        let frame = Self.bytes(9, 32)
        var a = SendQueue(), b = SendQueue()
        a.append(frame)
        b.append(frame)
        #expect(a.first === frame && b.first === frame, "each queue holds the same object")
        let vectors = UnsafeMutablePointer<iovec>.allocate(capacity: 2)
        defer { vectors.deallocate() }
        #expect(a.fill(vectors, capacity: 1) == 1 && b.fill(vectors + 1, capacity: 1) == 1)
        #expect(UnsafeRawPointer(vectors[0].iov_base) == frame.baseAddress, "the iovec points at the shared storage")
        #expect(vectors[0].iov_base == vectors[1].iov_base)
        #expect(Self.drain(&a, chunk: 5) == Self.drain(&b, chunk: 32))
    }
}

/// A message's other encodings are made once, by whichever thread asks first, and shared.
@Suite struct AlternateEncodingTests {
    @Test func eachEncodingIsMadeOnceWhateverTheNumberOfAskers() {
        let frame = OutboundBytes.copying(Array("canonical".utf8))
        let made = Mutex(0)
        let results = Mutex(Set<ObjectIdentifier>())
        let key = EncodingKey(name: "test", parameter: 15)
        DispatchQueue.concurrentPerform(iterations: 16) { _ in
            let encoded = frame.encoding(key) {
                made.withLock { $0 += 1 }
                return OutboundBytes.copying(Array("other".utf8))
            }
            results.withLock { _ = $0.insert(encoded.identity) }
        }
        #expect(made.withLock { $0 } == 1)
        let identities = results.withLock { $0 }
        #expect(identities.count == 1)
        // Another key is another encoding; the canonical bytes never change.
        let other = frame.encoding(EncodingKey(name: "test", parameter: 9)) { OutboundBytes.copying([1]) }
        #expect(!identities.contains(other.identity))
        #expect(frame.withUnsafeBytes { Array($0) } == Array("canonical".utf8))
    }
}
