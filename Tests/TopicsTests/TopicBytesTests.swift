import Testing
@testable import Topics

/// `TopicBytes` validates in place with `TopicName`'s scan: the same verdict for every row of
/// the name table, and, when valid, the name it becomes, hashed and compared as that name.
@Suite struct TopicBytesTests {
    @Test(arguments: topicNameTable)
    func bytesAreJudgedAsTheNameIs(text: String, expected: TopicError?) {
        Array(text.utf8).withUnsafeBytes { raw in
            let topic: TopicBytes
            do throws(TopicError) { topic = try TopicBytes(validating: raw) } catch {
                #expect(error == expected)
                return
            }
            #expect(expected == nil)
            let name = topic.name
            #expect(name == (try? TopicName(text)) && name.segmentCount == (try? TopicName(text))?.segmentCount)
            #expect(name.isSpelled(by: topic.bytes))
            var (viaName, viaBytes) = (Hasher(), Hasher())
            name.hash(into: &viaName)
            TopicName.hash(spelling: topic.bytes, into: &viaBytes)
            #expect(viaName.finalize() == viaBytes.finalize())
        }
    }

    /// Malformed UTF-8 is refused, never repaired into a name that would then match.
    @Test(arguments: [[0x61, 0x2E, 0xFF], [0x61, 0xED, 0xA0, 0x80], [0xC0, 0xAF], [0x61, 0xE2, 0x82]] as [[UInt8]])
    func malformedUTF8IsRefused(bytes: [UInt8]) {
        bytes.withUnsafeBytes { raw in
            _ = #expect(throws: TopicError.invalidUTF8) { try TopicBytes(validating: raw) }
        }
    }

    /// Byte identity, as NATS: a precomposed é and e + U+0301 spell two names.
    @Test func canonicallyEquivalentSpellingsAreDifferentNames() throws {
        let composed = try TopicName("caf\u{E9}")
        Array("cafe\u{301}".utf8).withUnsafeBufferPointer { #expect(!composed.isSpelled(by: $0)) }
        Array("caf\u{E9}".utf8).withUnsafeBufferPointer { #expect(composed.isSpelled(by: $0)) }
    }
}
