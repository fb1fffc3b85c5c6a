/// A topic name validated where its bytes lie (a slice of a read buffer), without copying
/// them into a `String`: a publish to a topic whose state exists needs only to find it, and
/// the state holds the `TopicName`. Valid only while those bytes are; never stored.
///
/// Validated by the same scan as `TopicName` (which validates bytes through this), and
/// looked up by the bytes `TopicName` hashes and compares (`TopicName.hash(spelling:into:)`,
/// `isSpelled(by:)`), so it finds exactly the `TopicName` it would become (`name`).
public struct TopicBytes {
    public let bytes: UnsafeBufferPointer<UInt8>
    let segmentCount: Int

    /// Validates raw bytes; malformed UTF-8 is `TopicError.invalidUTF8`, never repaired.
    public init(validating bytes: UnsafeRawBufferPointer, limits: TopicLimits = .default) throws(TopicError) {
        let utf8 = bytes.assumingMemoryBound(to: UInt8.self)
        segmentCount = try TopicSyntax.scan(utf8, wildcards: false, limits: limits).get().segmentCount
        self.bytes = utf8
    }

    /// The name as a value of its own (the bytes copied into a `String`).
    public var name: TopicName { TopicName(unchecked: String(decoding: bytes, as: UTF8.self), segmentCount: segmentCount) }
}
