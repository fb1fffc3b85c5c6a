import TestSupport
import Frames
import Testing

/// `Masking.apply` is the pointer-heavy part of Frames, so it is checked against the obvious
/// byte loop for every small length, every key phase and every start alignment
/// (gorilla/websocket `mask_test.go`).
struct MaskingTests {
    static let key = MaskKey(0x37, 0xFA, 0x21, 0x3D)

    /// The definition from RFC 6455 §5.3: octet i is XORed with key octet (i mod 4).
    static func naive(_ bytes: [UInt8], key: MaskKey, offset: Int) -> [UInt8] {
        let keyBytes = [key.bytes.0, key.bytes.1, key.bytes.2, key.bytes.3]
        return bytes.enumerated().map { $0.element ^ keyBytes[($0.offset + offset) % 4] }
    }

    /// Masks `length` bytes that start `alignment` bytes into a buffer, checking that the
    /// bytes around the slice are untouched.
    static func check(length: Int, offset: Int, alignment: Int, key: MaskKey = key,
                      sourceLocation: SourceLocation = #_sourceLocation) {
        var generator = SplitMix64(seed: UInt64(length * 64 + offset * 8 + alignment))
        let payload = (0..<length).map { _ in UInt8.random(in: 0...255, using: &generator) }
        var storage = [UInt8](repeating: 0xEE, count: length + 16)
        storage.replaceSubrange(alignment..<alignment + length, with: payload)
        storage.withUnsafeMutableBytes { buffer in
            Masking.apply(key, offset: offset, to: UnsafeMutableRawBufferPointer(rebasing: buffer[alignment..<alignment + length]))
        }
        #expect(Array(storage[alignment..<alignment + length]) == naive(payload, key: key, offset: offset),
                "length \(length) offset \(offset) alignment \(alignment)", sourceLocation: sourceLocation)
        #expect(storage[..<alignment].allSatisfy { $0 == 0xEE } && storage[(alignment + length)...].allSatisfy { $0 == 0xEE },
                "wrote outside the slice", sourceLocation: sourceLocation)
    }

    @Test(arguments: 0...7)
    func maskingMatchesByteLoopForEverySmallLengthOffsetAndAlignment(alignment: Int) {
        for length in 0...64 {
            for offset in 0...7 {
                Self.check(length: length, offset: offset, alignment: alignment)
            }
        }
    }

    @Test(arguments: [125, 126, 1000, 4099, 65_537])
    func maskingMatchesByteLoopForLargeBuffers(length: Int) {
        for offset in 0...3 {
            for alignment in [0, 1, 3, 7] {
                Self.check(length: length, offset: offset, alignment: alignment)
            }
        }
    }

    @Test func maskingWithLargeOffsetsUsesOffsetModuloFour() {
        Self.check(length: 40, offset: 1_000_003, alignment: 2)
    }

    @Test func maskingPiecewiseEqualsMaskingWhole() {
        var generator = SplitMix64(seed: 7)
        for _ in 0..<200 {
            let key = MaskKey.random(using: &generator)
            let length = Int.random(in: 0...300, using: &generator)
            let payload = (0..<length).map { _ in UInt8.random(in: 0...255, using: &generator) }
            var pieces = payload
            var start = 0
            pieces.withUnsafeMutableBytes { buffer in
                while start < length {
                    let end = min(length, start + Int.random(in: 1...40, using: &generator))
                    Masking.apply(key, offset: start, to: UnsafeMutableRawBufferPointer(rebasing: buffer[start..<end]))
                    start = end
                }
            }
            #expect(pieces == Self.naive(payload, key: key, offset: 0))
        }
    }

    @Test func maskingTwiceRestoresThePayload() {
        let payload = Array("masking is an involution".utf8)
        var bytes = payload
        bytes.withUnsafeMutableBytes { Masking.apply(Self.key, offset: 3, to: $0) }
        #expect(bytes != payload)
        bytes.withUnsafeMutableBytes { Masking.apply(Self.key, offset: 3, to: $0) }
        #expect(bytes == payload)
    }

    @Test func maskingAnEmptyBufferDoesNothing() {
        Masking.apply(Self.key, offset: 0, to: UnsafeMutableRawBufferPointer(start: nil, count: 0))
    }

    @Test func randomKeysDiffer() {
        // 2^-32 chance per pair of a false failure; 8 draws make a collision negligible.
        let keys = (0..<8).map { _ in MaskKey.random() }
        #expect(Set(keys.map { [$0.bytes.0, $0.bytes.1, $0.bytes.2, $0.bytes.3] }).count > 1)
    }
}
