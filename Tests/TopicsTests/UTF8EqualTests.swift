@testable import Topics
import Testing

/// Key equality compares eight bytes a step: every length and every position of a single
/// differing byte (in the word loop and in the tail) must still tell keys apart.
struct UTF8EqualTests {
    @Test func equalityFindsEveryDifferingByte() {
        for length in 0...20 {
            let base = (0..<length).map { UInt8(0x61 + $0 % 26) }
            base.withUnsafeBufferPointer { a in
                let copy = base
                copy.withUnsafeBufferPointer { b in #expect(utf8Equal(a, b)) }
                #expect(utf8Equal(a, a))
                for position in 0..<length {
                    var other = base
                    other[position] ^= 0x01
                    other.withUnsafeBufferPointer { b in #expect(!utf8Equal(a, b), "length \(length) position \(position)") }
                }
                let longer = base + [0x61]
                longer.withUnsafeBufferPointer { b in #expect(!utf8Equal(a, b)) }
            }
        }
    }
}
