import Broker
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
    /// `Authorization: Bearer …` when a token was given.
    let headers: [(String, String)]
    let topic: String
    let message: String?
    let json: Bool
    let binaryFile: String?
    let quiet: Bool

    init(_ arguments: [String]) throws {
        let flags = try Flags(arguments, options: Self.options, switches: Self.switches, help: Self.help)
        url = try CLI.url(flags.value("url"))
        headers = CLI.authHeaders(flags.value("token"))
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

    func run() throws {
        // Offers permessage-deflate, as browsers do: the server compresses what pays (issue 17).
        let client = try WebSocketClient(url: url, subprotocols: ["bus.v1"], headers: headers, compression: true)
        defer { try? client.close() }
        if let binaryFile {
            guard let data = FileManager.default.contents(atPath: binaryFile) else { throw UsageError("--binary: cannot read \(binaryFile)") }
            try client.send(binary: BinaryLayout.encodePublish(topic: topic, id: "p1", payload: [UInt8](data)))
            try awaitAck(client, id: "\"p1\"")
            return
        }
        if message == "-" {
            var number = 0
            while let line = readLine() {
                number += 1
                if json { try Self.checkJSON(line) }
                try publish(line, id: "p\(number)", on: client)
            }
            return
        }
        try publish(message!, id: "p1", on: client)
    }

    private func publish(_ text: String, id: String, on client: WebSocketClient) throws {
        let data = json ? Array(text.utf8) : Array(JSONText.quoted(text).utf8)
        try client.send(text: String(decoding: ClientEnvelope.publish(topic: topic, dataJSON: data, id: id), as: UTF8.self))
        try awaitAck(client, id: "\"\(id)\"")
    }

    private func awaitAck(_ client: WebSocketClient, id: String) throws {
        while true {
            switch try client.receive(timeout: 10) {
            case .text(let text):
                let message = Array(text.utf8).withUnsafeBytes { ServerMessage.parse($0) }
                switch message {
                case .ack(let ackID, _, let topic, _, let seq, let subscribers) where ackID == id:
                    if !quiet { CLI.warn("published to \(topic) seq \(seq ?? 0) (\(CLI.count(subscribers ?? 0, "subscriber")))") }
                    return
                case .error(let code, let text, _, _, _):
                    throw PublishRefused(description: "\(code): \(text)")
                default:
                    continue
                }
            case .close(let code, let reason):
                throw ServerClosed(code: code, reason: reason)
            default:
                continue
            }
        }
    }
}

struct PublishRefused: Error, CustomStringConvertible {
    let description: String
}
