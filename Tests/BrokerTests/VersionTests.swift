import BusProtocol
import Foundation
import Testing

/// `--version` on both installed binaries: what someone checking an install or filing a bug runs.
@Suite struct VersionTests {
    /// The built executables beside the test bundle (as `CLITests` and `ServerProcess` find them).
    static func binary(_ name: String) -> URL {
        URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
            .deletingLastPathComponent().appendingPathComponent(name)
    }

    /// Runs `name arguments` to completion; returns (status, stdout).
    static func run(_ name: String, _ arguments: [String]) throws -> (Int32, String) {
        let process = Process()
        process.executableURL = binary(name)
        process.arguments = arguments
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice
        try process.run()
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: stdout, as: UTF8.self))
    }

    /// Issue 19: a port in use printed only `Address already in use (errno 98)`; it says what
    /// to do now.
    @Test func aPortInUseSaysWhatToDo() throws {
        let taken = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(taken) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(taken, $0, length) } }
        _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(taken, $0, &length) } }
        listen(taken, 1)
        let port = UInt16(bigEndian: address.sin_port)
        let process = Process()
        process.executableURL = Self.binary("broker-server")
        process.arguments = ["--port", String(port)]
        let errors = Pipe()
        process.standardError = errors
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        let text = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus == 1)
        #expect(text.contains("Address already in use") && text.contains("--port"), "\(text)")
    }

    @Test func bothBinariesPrintTheSameVersionFromOnePlace() throws {
        let server = try Self.run("broker-server", ["--version"])
        let cli = try Self.run("bus-cli", ["--version"])
        let cliWord = try Self.run("bus-cli", ["version"])
        #expect(server.0 == 0 && cli.0 == 0 && cliWord.0 == 0)
        #expect(server.1 == "broker-server \(BusVersion.string)\n")
        #expect(cli.1 == "bus-cli \(BusVersion.string)\n")
        #expect(cliWord.1 == cli.1)
    }

    /// Guards `--version` answering before the options are read: it must not start a server
    /// or trip over an option the rest of the line gets wrong.
    @Test func serverVersionIgnoresTheRestOfTheLine() throws {
        let result = try Self.run("broker-server", ["--port", "not-a-port", "--version"])
        #expect(result == (0, "broker-server \(BusVersion.string)\n"))
    }

    @Test func bothHelpTextsMentionVersion() throws {
        let server = try Self.run("broker-server", ["--help"])
        let cli = try Self.run("bus-cli", ["--help"])
        #expect(server.0 == 0 && server.1.contains("--version"))
        #expect(cli.0 == 0 && cli.1.contains("--version"))
    }

    /// MAJOR.MINOR.PATCH, so scripts that compare versions can rely on the shape.
    @Test func versionIsSemantic() {
        let parts = BusVersion.string.split(separator: ".")
        #expect(parts.count == 3 && parts.allSatisfy { Int($0) != nil })
    }
}
