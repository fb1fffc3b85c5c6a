import Foundation
import Testing

/// Tests that drive a tool from outside the Swift toolchain (Python packages, node, chromium).
/// Where the tool is missing they skip, saying so, so `swift test` passes on a bare machine;
/// with `BUS_REQUIRE_ALL=1` (what `.ci/run` exports, after installing everything) a missing tool
/// fails the test instead, so CI can never pass by skipping.
enum ExternalTool {
    static var requireAll: Bool { ProcessInfo.processInfo.environment["BUS_REQUIRE_ALL"] == "1" }

    struct Missing: Error, CustomStringConvertible {
        let what: String
        var description: String { "\(what) is missing, and BUS_REQUIRE_ALL=1 makes that a failure" }
    }

    /// Goes on when `available`; otherwise skips the test (or fails it under BUS_REQUIRE_ALL=1).
    static func require(_ available: Bool, _ what: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
        guard !available else { return }
        if requireAll { throw Missing(what: what) }
        print("SKIPPED: \(what) is missing; install it (see .ci/run) to run this test")
        try Test.cancel("\(what) is missing", sourceLocation: sourceLocation)
    }

    /// Skips unless `python3` can import every module.
    static func requirePython(_ modules: [String], sourceLocation: SourceLocation = #_sourceLocation) throws {
        let available = run("python3", ["-c", modules.map { "import \($0)" }.joined(separator: "; ")], timeout: 30).status == 0
        try require(available, "python3 with \(modules.joined(separator: ", "))", sourceLocation: sourceLocation)
    }

    /// Skips unless `node` can load every module from Debian's node path.
    static func requireNode(_ modules: [String], sourceLocation: SourceLocation = #_sourceLocation) throws {
        let script = modules.map { "require('\($0)')" }.joined(separator: ";")
        let available = run("node", ["-e", script], timeout: 30).status == 0
        try require(available, "node with \(modules.joined(separator: ", ")) (Debian's node-ws)", sourceLocation: sourceLocation)
    }

    /// The environment tools run in: Debian's node modules on NODE_PATH.
    static var environment: [String: String] {
        var environment = ProcessInfo.processInfo.environment
        environment["NODE_PATH"] = environment["NODE_PATH"].map { "\($0):/usr/share/nodejs" } ?? "/usr/share/nodejs"
        return environment
    }

    /// Runs a program found on PATH; its exit status (-1 if it could not start) and its
    /// standard output and error together. Killed after `timeout` seconds.
    static func run(_ program: String, _ arguments: [String], timeout: Double = 120) -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [program] + arguments
        process.environment = environment
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        process.standardInput = FileHandle.nullDevice
        do { try process.run() } catch { return (-1, "\(error)") }
        try? output.fileHandleForWriting.close()  // only the child writes; EOF when it exits
        let reader = OutputReader(output.fileHandleForReading)
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning && Date() < deadline { usleep(20_000) }
        if process.isRunning { process.terminate() }
        process.waitUntilExit()
        return (process.terminationStatus, reader.text())
    }

    /// A file of this package, from the test's own source path (`Tests/Scripts/x.py`).
    static func packageFile(_ relative: String, filePath: String = #filePath) -> String {
        URL(fileURLWithPath: filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent(relative).path
    }
}

/// Drains a pipe on a background thread so a chatty child never blocks on a full pipe.
private final class OutputReader: @unchecked Sendable {
    // @unchecked: `data` is written by the reading thread only until `done` is signalled, and
    // read by the caller only after waiting for it.
    private var data = Data()
    private let done = DispatchSemaphore(value: 0)

    init(_ handle: FileHandle) {
        Thread.detachNewThread { [self] in
            data = handle.readDataToEndOfFile()
            done.signal()
        }
    }

    func text() -> String {
        done.wait()
        return String(decoding: data, as: UTF8.self)
    }
}
