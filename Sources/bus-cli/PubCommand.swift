import BusClient
import BusProtocol
import Foundation
import Frames

/// `bus-cli pub TOPIC MSG`: publishes and waits for the server's ack.
struct PubCommand {
    static let help = """
        Usage: bus-cli pub TOPIC MSG [options]
               bus-cli pub TOPIC - [options]          publish each line of standard input
               bus-cli pub TOPIC --binary FILE        publish a file's bytes

        Publishes MSG as a JSON string and waits for the server's ack; exits non-zero with a
        one-line error if the server refuses it. The ack's subscriber count is the server's
        own: in a cluster, subscribers on other nodes get the message but are not counted.

        Options:
          --url URL        server (default: $BUS_URL, else ws://127.0.0.1:8080/bus;
                           ws://HOST:PORT means /bus)
          --token TOKEN    token for a server with auth (default: $BUS_TOKEN)
          --json           publish MSG as a JSON value (checked before sending)
          --binary FILE    publish the bytes of FILE as a binary payload
          --quiet          print nothing on success

        """

    /// The flags that take a value and those that do not: the parser and `completion` read both.
    static let options: Set<String> = ["url", "binary", "token"]
    static let switches: Set<String> = ["json", "quiet"]

    let url: WebSocketURL
    let token: String?
    let topic: String
    let message: String?
    let json: Bool
    let binaryFile: String?
    let quiet: Bool

    init(_ arguments: [String]) throws {
        let flags = try Flags(arguments, options: Self.options, switches: Self.switches, help: Self.help)
        url = try CLI.url(flags.value("url"))
        token = CLI.token(flags.value("token"))
        binaryFile = flags.value("binary")
        json = flags.has("json")
        quiet = flags.has("quiet")
        let expected = binaryFile == nil ? 2 : 1
        guard flags.positional.count == expected else {
            throw UsageError(binaryFile == nil ? "pub needs TOPIC and MSG" : "pub --binary FILE needs only TOPIC")
        }
        topic = flags.positional[0]
        message = binaryFile == nil ? flags.positional[1] : nil
        if json, let message, message != "-" { try Self.checkJSON(message) }
    }

    static func checkJSON(_ text: String) throws {
        let valid = Array(text.utf8).withUnsafeBytes { JSON.validateValue($0) }
        guard valid else { throw UsageError("--json: '\(text)' is not a JSON value") }
    }

    /// Publishes through BusClient, without reconnecting: a refusal or a lost connection is
    /// the command's failure.
    func run() async throws {
        var options = BusClient.Options(token: token)
        options.reconnect = false
        let bus = try BusClient(url: url.description, options: options)
        defer { bus.close() }
        if let binaryFile {
            guard let data = FileManager.default.contents(atPath: binaryFile) else { throw UsageError("--binary: cannot read \(binaryFile)") }
            report(try await bus.publish(topic, binary: [UInt8](data)))
            return
        }
        if message == "-" {
            while let line = readLine() {
                if json { try Self.checkJSON(line) }
                try await publish(line, on: bus)
            }
            return
        }
        try await publish(message!, on: bus)
    }

    private func publish(_ text: String, on bus: BusClient) async throws {
        report(try await bus.publish(topic, json: json ? text : JSONText.quoted(text)))
    }

    private func report(_ ack: PublishAck) {
        if !quiet { CLI.warn("published to \(ack.topic) seq \(ack.seq) (\(CLI.count(ack.subscribers, "subscriber")))") }
    }
}

struct PublishRefused: Error, CustomStringConvertible {
    let description: String
}
