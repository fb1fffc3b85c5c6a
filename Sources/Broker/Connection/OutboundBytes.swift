import Synchronization
import Topics

/// Immutable bytes to send — usually one whole WebSocket frame, header and payload together —
/// shared by reference by every send queue that carries them, so a publish is encoded once
/// however many subscribers it reaches, and each queued delivery is one iovec.
///
/// One allocation holds everything (`FrameStorage`): a header with the count and stamp, then
/// one word for the table of other encodings (see `encoding`), then the bytes. A frame used to
/// be an object plus a buffer of its own: two mallocs and two frees per message, two cache
/// lines apart for every queue that sends it. A struct around that one reference, because
/// `ManagedBuffer` may not be `Sendable` itself; it costs nothing (the same single pointer).
///
/// `@unchecked Sendable`: the bytes and the header are written once, inside `make`, before the
/// storage is published to anyone, and never again; the encodings word is only ever read and
/// set atomically; everything is freed only when the last reference goes.
struct OutboundBytes: @unchecked Sendable {
    private let storage: FrameStorage

    /// Allocates `count` bytes and lets `fill` write all of them.
    static func make(count: Int, stamp: consuming DeliveryStamp? = nil, _ fill: (UnsafeMutableRawBufferPointer) -> Void) -> OutboundBytes {
        OutboundBytes(storage: FrameStorage.make(count: count, stamp: stamp, fill))
    }

    static func copying(_ source: some Collection<UInt8>) -> OutboundBytes {
        make(count: source.count) { destination in
            // Contiguous sources (every reply built in an array) in one copy, not byte by byte.
            let copied: Void? = source.withContiguousStorageIfAvailable { destination.copyMemory(from: UnsafeRawBufferPointer($0)) }
            if copied == nil { _ = destination.initializeMemory(as: UInt8.self, from: source) }
        }
    }

    /// The same bytes (one allocation), not merely equal ones.
    static func === (a: OutboundBytes, b: OutboundBytes) -> Bool { a.storage === b.storage }

    /// Which allocation these bytes are (`===` compares it).
    var identity: ObjectIdentifier { ObjectIdentifier(storage) }

    var count: Int { storage.header.count }

    /// For a topic message: which one it is. A dropped slow consumer is told, per topic, the
    /// last position it was sent, read from the stamps of what it could not be sent.
    var stamp: DeliveryStamp? {
        // Yielded in place: reading one field (`stamp?.offset`) copies neither the stamp nor its
        // strings (a retain and a release each).
        _read { yield storage.header.stamp }
    }

    /// Stable for the bytes' life: iovecs point straight at them.
    var baseAddress: UnsafeRawPointer { storage.bytes }

    func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try body(UnsafeRawBufferPointer(start: storage.bytes, count: count))
    }

    /// The encoding `key` of this message: made by `make` the first time any loop asks,
    /// then the same bytes for everyone.
    func encoding(_ key: EncodingKey, _ make: () -> OutboundBytes) -> OutboundBytes {
        storage.encodings().encoding(key, make)
    }
}

/// Whether both are the same bytes, or both absent (a ring slot against a frame).
func === (a: OutboundBytes?, b: OutboundBytes?) -> Bool {
    switch (a, b) {
    case let (a?, b?): a === b
    case (nil, nil): true
    default: false
    }
}

/// An `OutboundBytes`' one allocation: see there.
private final class FrameStorage: ManagedBuffer<OutboundBytesHeader, UInt64> {
    static func make(count: Int, stamp: consuming DeliveryStamp?, _ fill: (UnsafeMutableRawBufferPointer) -> Void) -> FrameStorage {
        // Words: the encodings word, then the bytes rounded up (at least one word, so that an
        // empty frame still has an address of its own).
        let words = 1 + max(1, (count + 7) / 8)
        // The stamp is moved into the header, not copied: a copy retained its topic and
        // epoch, and the original released them, on every published message.
        let made = unsafeDowncast(create(minimumCapacity: words) { _ in OutboundBytesHeader(count: count, stamp: stamp.take()) },
                                  to: FrameStorage.self)
        made.withUnsafeMutablePointerToElements { tail in
            UnsafeMutableRawPointer(tail).bindMemory(to: Atomic<Int>.self, capacity: 1).initialize(to: Atomic(0))
            fill(UnsafeMutableRawBufferPointer(start: UnsafeMutableRawPointer(tail + 1), count: count))
        }
        return made
    }

    deinit {
        let table = encodingsWord.pointee.load(ordering: .acquiring)
        if table != 0 { Unmanaged<AlternateEncodings>.fromOpaque(UnsafeRawPointer(bitPattern: table)!).release() }
        encodingsWord.deinitialize(count: 1)
    }

    var bytes: UnsafeRawPointer { withUnsafeMutablePointerToElements { UnsafeRawPointer($0 + 1) } }

    /// Other encodings of the same message (a compressed frame, an event-stream event), each
    /// made once by whichever loop first needs it and shared by every subscriber that wants
    /// it; these bytes stay the canonical frame (history and GET /history read them). Zero
    /// until then, after that the table's retained address, set once by whichever loop wins.
    private var encodingsWord: UnsafeMutablePointer<Atomic<Int>> {
        withUnsafeMutablePointerToElements { UnsafeMutableRawPointer($0).assumingMemoryBound(to: Atomic<Int>.self) }
    }

    func encodings() -> AlternateEncodings {
        let known = encodingsWord.pointee.load(ordering: .acquiring)
        if known != 0 { return Unmanaged<AlternateEncodings>.fromOpaque(UnsafeRawPointer(bitPattern: known)!).takeUnretainedValue() }
        let made = Unmanaged.passRetained(AlternateEncodings())
        let (stored, found) = encodingsWord.pointee.compareExchange(expected: 0, desired: Int(bitPattern: made.toOpaque()),
                                                                   ordering: .acquiringAndReleasing)
        if stored { return made.takeUnretainedValue() }
        made.release()
        return Unmanaged<AlternateEncodings>.fromOpaque(UnsafeRawPointer(bitPattern: found)!).takeUnretainedValue()
    }
}

/// What an `OutboundBytes` knows of its bytes, in the object's header.
struct OutboundBytesHeader {
    let count: Int
    let stamp: DeliveryStamp?
}

/// Which topic message a frame carries, its kind, where its payload lies in the frame (for
/// GET /history, which returns payloads without their envelopes) and when its publish
/// arrived (monotonic nanoseconds), so a flush can time the delivery.
struct DeliveryStamp: Sendable {
    let topic: TopicName
    let position: TopicPosition
    let kind: PayloadKind
    let payload: Range<Int>
    let arrival: UInt64
    /// The loop that sequenced it and its offset there: the message's place in cursors
    /// (Protocol.md "Resuming a pattern").
    var owner = 0
    var offset: UInt64 = 0
}

/// Which other encoding of a message (see `OutboundBytes.encoding`): a name and a parameter
/// (e.g. a compressor's window size), so encodings made for different peers stay apart.
struct EncodingKey: Hashable, Sendable {
    let name: String
    var parameter = 0
}

/// A message's other encodings, made at most once each, from any loop.
final class AlternateEncodings: Sendable {
    private let table = Mutex<[EncodingKey: OutboundBytes]>([:])

    func encoding(_ key: EncodingKey, _ make: () -> OutboundBytes) -> OutboundBytes {
        // Made under the lock: a second loop asking meanwhile waits for these bytes instead
        // of making its own copy (encodings are made once per message, whatever the fan-out).
        table.withLock { table in
            if let known = table[key] { return known }
            let made = make()
            table[key] = made
            return made
        }
    }
}
