/// The data directory's own record, kept in `meta` (a fixed 512-byte file rewritten in place,
/// so updating it needs no new disk blocks even on a full disk): which server life wrote the
/// segments and how that life ended, which decides at the next start whether the segments'
/// tails can be trusted (see `HistoryRecovery`).
///
///     "busmeta\n"  u32 version  u64 serverEpoch  u32 loopCount  u8 durability  u8 state
///     u8 bootIDLength  bootID  …zero padding…  u32 crc32c(bytes 0..<508)
public struct StoreMeta: Equatable, Sendable {
    /// How the life that wrote the segments ended.
    public enum State: UInt8, Sendable {
        /// Still running, or it crashed (the state is written `clean` only at a graceful stop).
        case running = 0
        /// Stopped gracefully with every record written and synced.
        case clean = 1
        /// History fell back to memory (full disk, I/O error, writer behind): what was
        /// published afterwards is not on disk.
        case degraded = 2
    }

    public static let size = 512
    static let magic: [UInt8] = Array("busmeta\n".utf8)
    static let version: UInt32 = 1

    /// Chosen at random when the directory is first used, then kept: positions that name it
    /// come from this data directory's history, whatever the restarts.
    public var serverEpoch: UInt64
    /// Event loops of the life that wrote the segments (topics' owners, and the per-owner
    /// offsets, depend on it).
    public var loopCount: Int
    /// `Durability.rawValue` of that life.
    public var durability: UInt8
    public var state: State
    /// /proc/sys/kernel/random/boot_id of that life: the same one now means the machine did
    /// not restart, so the page cache (what `write` mode promises) survived a crash.
    public var bootID: String

    public init(serverEpoch: UInt64, loopCount: Int, durability: UInt8, state: State, bootID: String) {
        self.serverEpoch = serverEpoch
        self.loopCount = loopCount
        self.durability = durability
        self.state = state
        self.bootID = bootID
    }

    public func encode() -> [UInt8] {
        var out = Self.magic
        RecordCodec.put(Self.version, into: &out)
        RecordCodec.put(serverEpoch, into: &out)
        RecordCodec.put(UInt32(clamping: loopCount), into: &out)
        out.append(durability)
        out.append(state.rawValue)
        let boot = Array(bootID.utf8.prefix(64))
        out.append(UInt8(boot.count))
        out += boot
        out += [UInt8](repeating: 0, count: Self.size - 4 - out.count)
        RecordCodec.put(CRC32C.checksum(out), into: &out)
        return out
    }

    /// nil for anything but a whole, valid meta file of this version.
    public init?(decoding bytes: [UInt8]) {
        guard bytes.count == Self.size, bytes.starts(with: Self.magic) else { return nil }
        let valid = bytes.withUnsafeBytes { raw in
            CRC32C.checksum(UnsafeRawBufferPointer(rebasing: raw[0..<(Self.size - 4)]))
                == RecordCodec.load(UInt32.self, raw, at: Self.size - 4)
        }
        guard valid else { return nil }
        let fields = bytes.withUnsafeBytes { raw in
            (RecordCodec.load(UInt32.self, raw, at: 8), RecordCodec.load(UInt64.self, raw, at: 12), RecordCodec.load(UInt32.self, raw, at: 20))
        }
        guard fields.0 == Self.version, let state = State(rawValue: bytes[25]) else { return nil }
        let bootLength = Int(bytes[26])
        guard bootLength <= 64 else { return nil }
        self.init(serverEpoch: fields.1, loopCount: Int(fields.2), durability: bytes[24], state: state,
                  bootID: String(decoding: bytes[27..<(27 + bootLength)], as: UTF8.self))
    }
}
