import Foundation
import Testing
@testable import Broker

/// bus-cli as a shell user runs it, against a live server.
@Suite(.serialized) struct CLITests {
    static let binary = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        .deletingLastPathComponent().appendingPathComponent("bus-cli")

    /// Runs bus-cli to completion; returns (status, stdout, stderr).
    static func run(_ arguments: [String], stdin: String? = nil) throws -> (Int32, String, String) {
        let process = Process()
        process.executableURL = binary
        process.arguments = arguments
        let out = Pipe(), err = Pipe(), input = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = input
        try process.run()
        if let stdin { input.fileHandleForWriting.write(Data(stdin.utf8)) }
        try input.fileHandleForWriting.close()
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        let stderr = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: stdout, as: UTF8.self), String(decoding: stderr, as: UTF8.self))
    }

    @Test func subPrintsWhatPubPublishes() throws {
        let server = try LiveServer()
        defer { server.stop() }
        let url = "ws://127.0.0.1:\(server.port)"
        let subscriber = Process()
        subscriber.executableURL = Self.binary
        subscriber.arguments = ["sub", "cli.>", "--url", url, "--count", "4"]
        let out = Pipe()
        subscriber.standardOutput = out
        try subscriber.run()
        // Wait until the subscription is active: a publish then reports one subscriber.
        #expect(eventually {
            guard let result = try? Self.run(["pub", "cli.probe", "probe", "--url", url]) else { return false }
            return result.2.contains("(1 subscribers)")
        })
        #expect(try Self.run(["pub", "cli.a", "hello, world", "--url", url]).0 == 0)
        #expect(try Self.run(["pub", "cli.b", #"{"k": [1, 2]}"#, "--json", "--url", url]).0 == 0)
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("bus-cli-test.bin")
        try Data([0, 1, 2, 255]).write(to: file)
        #expect(try Self.run(["pub", "cli.c", "--binary", file.path, "--url", url]).0 == 0)
        subscriber.waitUntilExit()
        let printed = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(printed == "probe\nhello, world\n{\"k\": [1, 2]}\nAAEC/w==\n")
        #expect(subscriber.terminationStatus == 0)
    }

    @Test func pubReadsLinesFromStandardInput() throws {
        let server = try LiveServer()
        defer { server.stop() }
        let url = "ws://127.0.0.1:\(server.port)"
        let (status, _, stderr) = try Self.run(["pub", "lines", "-", "--url", url], stdin: "one\ntwo\nthree\n")
        #expect(status == 0)
        #expect(stderr.contains("seq 3"))
        let (_, history, _) = try Self.run(["sub", "lines", "--last", "3", "--count", "3", "--url", url])
        #expect(history == "one\ntwo\nthree\n")
    }

    @Test func failuresAreOneLineAndNonZero() throws {
        let server = try LiveServer()
        defer { server.stop() }
        let url = "ws://127.0.0.1:\(server.port)"
        let refused = try Self.run(["pub", "bad..topic", "x", "--url", url])
        #expect(refused.0 == 1 && refused.2.hasPrefix("bus-cli: invalid_topic") && refused.2.split(separator: "\n").count == 1)
        let badJSON = try Self.run(["pub", "t", "{nope", "--json", "--url", url])
        #expect(badJSON.0 == 2)
        let usage = try Self.run(["frobnicate"])
        #expect(usage.0 == 2 && usage.2.contains("unknown command"))
        let help = try Self.run(["sub", "--help"])
        #expect(help.0 == 0 && help.1.contains("--reconnect"))
        let unreachable = try Self.run(["pub", "t", "x", "--url", "ws://127.0.0.1:1"])
        #expect(unreachable.0 == 1)
    }
}
