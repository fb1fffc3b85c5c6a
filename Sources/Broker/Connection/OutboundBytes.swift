import Synchronization
import Topics

/// Immutable bytes to send — usually one whole WebSocket frame, header and payload together —
/// shared by reference by every send queue that carries them, so a publish is encoded once
/// however many subscribers it reaches, and each queued delivery is one iovec.
///
/// `@unchecked Sendable`: the bytes are written once, inside `make`, before the object is
/// published to anyone, and never again; the storage is freed only in `deinit`.
public final class OutboundBytes: @unchecked Sendable {
    /// Stable for the object's life: iovecs point straight at it.
    let baseAddress: UnsafeRawPointer
    public let count: Int
    /// For a topic message: which one it is. A dropped slow consumer is told, per topic, the
    /// last position it was sent, read from the stamps of what it could not be sent.
    let stamp: DeliveryStamp?
    /// Other encodings of the same message (a compressed frame, an event-stream event), each
    /// made once by whichever loop first needs it and shared by every subscriber that wants
    /// it; these bytes stay the canonical frame (history and GET /history read them). One
    /// pointer when unused.
    private let alternates = AtomicLazyReference<AlternateEncodings>()

    private init(count: Int, stamp: DeliveryStamp?, _ fill: (UnsafeMutableRawBufferPointer) -> Void) {
        let storage = Sys.allocateBytes(count)
        fill(UnsafeMutableRawBufferPointer(start: storage, count: count))
        baseAddress = UnsafeRawPointer(storage)
        self.count = count
        self.stamp = stamp
    }

    deinit { Sys.freeBytes(UnsafeMutableRawPointer(mutating: baseAddress)) }

    /// Allocates `count` bytes and lets `fill` write all of them.
    static func make(count: Int, stamp: DeliveryStamp? = nil, _ fill: (UnsafeMutableRawBufferPointer) -> Void) -> OutboundBytes {
        OutboundBytes(count: count, stamp: stamp, fill)
    }

    public static func copying(_ source: some Collection<UInt8>) -> OutboundBytes {
        make(count: source.count) { destination in
            // Contiguous sources (every reply built in an array) in one copy, not byte by byte.
            let copied: Void? = source.withContiguousStorageIfAvailable { destination.copyMemory(from: UnsafeRawBufferPointer($0)) }
            if copied == nil { _ = destination.initializeMemory(as: UInt8.self, from: source) }
        }
    }

    /// The encoding `key` of this message: made by `make` the first time any loop asks,
    /// then the same bytes for everyone.
    func encoding(_ key: EncodingKey, _ make: () -> OutboundBytes) -> OutboundBytes {
        let table = alternates.load() ?? alternates.storeIfNil(AlternateEncodings())
        return table.encoding(key, make)
    }

    public func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try body(UnsafeRawBufferPointer(start: baseAddress, count: count))
    }
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
private final class AlternateEncodings: Sendable {
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
