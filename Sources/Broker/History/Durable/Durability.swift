/// With `--data-dir`, what a message's delivery (fan-out and publish ack) waits for.
///
/// The default is `write`: a message is delivered once its record is in the kernel's page
/// cache, so a crash of the broker (the common failure: a bug, an OOM kill, a SIGKILL) loses
/// nothing any client saw, and a restart keeps every topic's epoch. It costs a hand-off to the
/// writer thread and back per loop turn, not a disk wait. `fsync` also survives a power loss
/// or a kernel crash, at the price of one `fdatasync` per batch before anything is delivered
/// (group commit: a loop's publishes of one turn share it). `none` writes behind delivery:
/// cheapest, continuity across a graceful restart only; after a crash every topic starts a new
/// epoch. Costs measured in bench/README.md.
public enum Durability: String, Sendable, CaseIterable {
    case none
    case write
    case fsync

    /// Deliveries wait for the writer's completion.
    var waitsForWriter: Bool { self != .none }

    /// The value kept in the data directory's meta file.
    var code: UInt8 {
        switch self {
        case .none: 0
        case .write: 1
        case .fsync: 2
        }
    }

    init?(code: UInt8) {
        guard let mode = Self.allCases.first(where: { $0.code == code }) else { return nil }
        self = mode
    }
}
