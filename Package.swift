// swift-tools-version:6.0
import PackageDescription

/// Release builds are whole-module by default in SwiftPM; cross-module optimisation lets the
/// hot path inline across Frames → Broker (e.g. masking and header encoding).
/// Dynamic exclusivity checks stay in debug builds, where the whole test suite runs them;
/// release builds leave them out (they were 4-7 % of the server's CPU in profiles).
let speed: [SwiftSetting] = [
    .unsafeFlags(["-cross-module-optimization", "-enforce-exclusivity=unchecked"], .when(configuration: .release)),
]

let package = Package(
    name: "bus",
    // Linux is what CI builds; macOS is declared for BusClient (Synchronization's Mutex needs 15).
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "broker-server", targets: ["broker-server"]),
        .executable(name: "bus-cli", targets: ["bus-cli"]),
        // The Swift client library: add this package and depend on "BusClient".
        .library(name: "BusClient", targets: ["BusClient"]),
    ],
    targets: [
        // Linux headers Glibc's Swift module does not export (epoll, eventfd, accept4, ...).
        .target(name: "CLinux"),
        // The libc calls both the server and the bench's client loop make (sockets, epoll,
        // the monotonic clock, addresses): written once; Broker re-exports them in System/.
        .target(name: "SystemCalls", dependencies: ["CLinux"], swiftSettings: speed),
        // The system's zlib (zlib1g, headers from zlib1g-dev): permessage-deflate for the server and
        // the client alike. A module map, no package.
        .systemLibrary(name: "CZlib", path: "Sources/CZlib"),
        .target(name: "Frames", dependencies: ["CZlib"], swiftSettings: speed),
        .target(name: "Topics", swiftSettings: speed),
        // History segment files without I/O: record codec, CRC-32C, the meta file and the
        // recovery fold, tested on bytes like Frames (data files are hostile input).
        .target(name: "HistoryStore", dependencies: ["Topics"], swiftSettings: speed),
        // The envelope codec, pure and apart from the runtime so fuzz targets build it alone.
        .target(name: "BusProtocol", swiftSettings: speed),
        // The NATS client protocol (cluster backplane), pure like Frames: parser, encoder, client state machine.
        .target(name: "NATS", dependencies: ["BusProtocol"], swiftSettings: speed),
        // Secrets and crypto (SHA-256, HMAC, JWT, static tokens, grants) in one small module
        // with no sockets, so it can be audited and tested alone.
        .target(name: "Auth", dependencies: ["Frames", "Topics", "BusProtocol"], swiftSettings: speed),
        .target(name: "Broker", dependencies: ["Auth", "Frames", "Topics", "HistoryStore", "BusProtocol", "NATS", "CLinux", "SystemCalls"], swiftSettings: speed),
        // The client library for applications: connection, reconnection, resume. Only the pure
        // modules (no Broker, no Foundation), its own I/O thread and sockets (Platform/).
        .target(name: "BusClient", dependencies: ["Frames", "BusProtocol", "Topics"], swiftSettings: speed),
        .executableTarget(name: "broker-server", dependencies: ["Broker", "BusProtocol"], swiftSettings: speed),
        // `bus-cli bench`'s client loop, scenarios and report: a client of the server (which it
        // starts as a child process), so it needs SystemCalls' sockets, not the Broker runtime.
        .target(name: "BusBench", dependencies: ["Frames", "BusProtocol", "SystemCalls"], swiftSettings: speed),
        .executableTarget(name: "bus-cli", dependencies: ["BusClient", "BusBench", "BusProtocol", "Frames"], swiftSettings: speed),
        // Helpers shared by the test targets (seeded randomness).
        .target(name: "TestSupport", path: "Tests/TestSupport"),
        .testTarget(name: "FramesTests", dependencies: ["Frames", "TestSupport"]),
        .testTarget(name: "TopicsTests", dependencies: ["Topics", "TestSupport"]),
        .testTarget(name: "HistoryStoreTests", dependencies: ["HistoryStore", "Topics"]),
        .testTarget(name: "BusProtocolTests", dependencies: ["BusProtocol", "TestSupport"]),
        .testTarget(name: "NATSTests", dependencies: ["NATS", "TestSupport"]),
        .testTarget(name: "AuthTests", dependencies: ["Auth", "Frames", "Topics"]),
        .testTarget(name: "BrokerTests", dependencies: ["Auth", "Broker", "HistoryStore", "Frames", "Topics", "BusProtocol", "TestSupport"]),
        // The pure pieces of BusBench (histogram, payload codec, /proc parsing, report).
        .testTarget(name: "BusClientTests", dependencies: ["BusClient", "BusProtocol", "Topics", "Broker", "TestSupport"]),
        .testTarget(name: "BenchTests", dependencies: ["BusBench", "Frames", "BusProtocol"]),
    ],
    swiftLanguageModes: [.v6]
)
