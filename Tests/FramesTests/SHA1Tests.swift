import Testing
@testable import Frames

/// SHA-1 against the published vectors, plus the padding edges where one-block and
/// two-block padding meet.
struct SHA1Tests {
    static func hex(_ bytes: [UInt8]) -> String {
        bytes.map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined()
    }

    /// FIPS 180-2 Appendix A and RFC 3174 §7.3 test vectors.
    @Test(arguments: [
        ("abc", "a9993e364706816aba3e25717850c26c9cd0d89d"),
        ("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", "84983e441c3bd26ebaae4aa1f95129e5e54670f1"),
        ("", "da39a3ee5e6b4b0d3255bfef95601890afd80709"),
        ("The quick brown fox jumps over the lazy dog", "2fd4e1c67a2d28fced849ee1bb76e7391b93eb12"),
    ])
    func publishedVectors(input: String, digest: String) {
        #expect(Self.hex(SHA1.hash(Array(input.utf8))) == digest)
    }

    /// FIPS 180-2 Appendix A.3: one million repetitions of "a".
    @Test func oneMillionAs() {
        let input = [UInt8](repeating: UInt8(ascii: "a"), count: 1_000_000)
        #expect(Self.hex(SHA1.hash(input)) == "34aa973cd4c4daa4f61eeb2bdbad27316534016f")
    }

    /// Bytes 0, 1, 2, ... of each length. 55 is the longest message whose padding fits one
    /// block, 56 the shortest needing a second; 63/64/65 straddle the block size. Expected
    /// digests from Python's `hashlib.sha1`.
    @Test(arguments: [
        (55, "8ae2d46729cfe68ff927af5eec9c7d1b66d65ac2"),
        (56, "636e2ec698dac903498e648bd2f3af641d3c88cb"),
        (63, "6d942da0c4392b123528f2905c713a3ce28364bd"),
        (64, "c6138d514ffa2135bfce0ed0b8fac65669917ec7"),
        (65, "69bd728ad6e13cd76ff19751fde427b00e395746"),
        (119, "41c89d06001bab4ab78736b44efe7ce18ce6ae08"),
        (120, "d3dbd653bd8597b7475321b60a36891278e6a04a"),
        (128, "e6434bc401f98603d7eda504790c98c67385d535"),
    ])
    func paddingEdges(length: Int, digest: String) {
        let input = (0..<length).map { UInt8(truncatingIfNeeded: $0) }
        #expect(Self.hex(SHA1.hash(input)) == digest)
    }

    @Test func rawBufferAndArrayAgree() {
        let input = Array("dGhlIHNhbXBsZSBub25jZQ==258EAFA5-E914-47DA-95CA-C5AB0DC85B11".utf8)
        let viaBuffer = input.withUnsafeBytes { SHA1.hash($0) }
        #expect(viaBuffer == SHA1.hash(input))
        #expect(viaBuffer.count == SHA1.digestLength)
    }
}
