import Broker
import BusProtocol
import Foundation
import Frames

/// `bus-cli sub TOPIC...`: one line per message on standard output, as a shell user expects.
struct SubCommand {
    static let help = """
        Usage: bus-cli sub TOPIC [TOPIC...] [options]

        Subscribes to each TOPIC (a topic or a pattern with * and >) and prints one line per
        message: a string payload as its text, any other JSON exactly as published, binary
        payloads as base64. With a pattern or several TOPICs each line starts with the
        message's topic and a space (chat.room1 hello); one literal TOPIC prints the payload
        alone.

        Options:
          --url URL      server (default: $BUS_URL, else ws://127.0.0.1:8080/bus;
                         ws://HOST:PORT means /bus)
          --token TOKEN  token for a server with auth (default: $BUS_TOKEN)
          --json         print whole message envelopes (topic, epoch, seq, data)
          --raw          print binary payloads as their raw bytes instead of base64
                         (never prefixed with the topic)
          -v, --verbose  start every line with the topic and the message's seq
                         (chat.room1 #42 hello), even for one literal TOPIC
          --count N      exit after N messages
          --reconnect    reconnect with backoff when the connection drops; topics resume
                         from the last message printed (patterns just subscribe again)
          --since EPOCH:SEQ  start with the retained messages after this position
                         (a literal TOPIC only; positions are in --json output and acks)
          --last N       start with the newest N retained messages (literal topics)

        """

    /// The flags that take a value and those that do not: the parser and `completion` read both.
    static let options: Set<String> = ["url", "count", "since", "last", "token"]
    static let switches: Set<String> = ["json", "raw", "reconnect", "verbose"]

    let url: WebSocketURL
    /// `Authorization: Bearer …` when a token was given.
    let headers: [(String, String)]
    let topics: [String]
    let json: Bool
    let raw: Bool
    let count: Int?
    let reconnect: Bool
    /// `-v`: every line is `topic #seq payload`, even for one literal topic.
    let verbose: Bool
    /// Lines start with the topic when the command alone does not say which topic a message
    /// is on: a pattern, or several TOPICs (as `nats sub` and `mosquitto_sub -v` show it).
    let showTopic: Bool
    /// Where each literal topic resumes: from the flags at first, then the last message printed.
    private var resumeFrom: [String: ClientRequest.Resume] = [:]

    init(_ arguments: [String]) throws {
        let flags = try Flags(arguments, options: Self.options, switches: Self.switches, help: Self.help, shortSwitches: ["v": "verbose"])
        guard !flags.positional.isEmpty else { throw UsageError("sub needs at least one TOPIC") }
        topics = flags.positional
        url = try CLI.url(flags.value("url"))
        headers = CLI.authHeaders(flags.value("token"))
        json = flags.has("json")
        raw = flags.has("raw")
        count = try flags.integer("count")
        reconnect = flags.has("reconnect")
        verbose = flags.has("verbose")
        showTopic = topics.count > 1 || topics.contains(where: CLI.isPattern)
        var start: ClientRequest.Resume?
        if let since = flags.value("since") {
            let parts = since.split(separator: ":")
            guard parts.count == 2, let seq = UInt64(parts[1]) else { throw UsageError("--since: '\(since)' is not EPOCH:SEQ") }
            start = .since(epoch: String(parts[0]), seq: seq)
        }
        if let last = try flags.integer("last") {
            guard start == nil else { throw UsageError("--since and --last exclude each other") }
            start = .last(last)
        }
        if let start {
            // History is per topic today: a pattern cannot resume yet, and saying so beats
            // subscribing without the history that was asked for.
            if let pattern = topics.first(where: CLI.isPattern) {
                throw UsageError("--since and --last need literal topics: '\(pattern)' is a pattern (history is kept per topic)")
            }
            for topic in topics { resumeFrom[topic] = start }
        }
    }

    mutating func run() throws {
        var printed = 0
        var backoff = 0.1
        while true {
            do {
                let client = try connectAndSubscribe()
                backoff = 0.1
                while count.map({ printed < $0 }) ?? true {
                    if try printNext(from: client) { printed += 1 }
                }
                try? client.close()
                return
            } catch let error as SubscribeRefused {
                throw error
            } catch {
                guard reconnect else { throw error }
                CLI.warn("\(CLI.explain(error)); reconnecting in \(String(format: "%.1f", backoff)) s")
                Thread.sleep(forTimeInterval: backoff * Double.random(in: 0.8...1.2))
                backoff = min(backoff * 2, 5)
            }
        }
    }

    private func connectAndSubscribe() throws -> WebSocketClient {
        // Offers permessage-deflate, as browsers do: the server compresses what pays (issue 17).
        let client = try WebSocketClient(url: url, subprotocols: ["bus.v1"], headers: headers, compression: true)
        for (index, topic) in topics.enumerated() {
            let request = resumeFrom[topic].map { ClientEnvelope.subscribe(topic: topic, id: "s\(index)", resume: $0) }
                ?? ClientEnvelope.subscribe(topic: topic, id: "s\(index)")
            try client.send(text: String(decoding: request, as: UTF8.self))
        }
        return client
    }

    /// Remembers the position of a printed message, for `--reconnect`.
    private mutating func printed(topic: String, epoch: String, seq: UInt64) {
        if reconnect && topics.contains(topic) { resumeFrom[topic] = .since(epoch: epoch, seq: seq) }
    }

    /// Prints the next message; false for anything that is not a message (acks, welcome).
    private mutating func printNext(from client: WebSocketClient) throws -> Bool {
        switch try client.receive(timeout: 3600) {
        case .text(let text):
            let bytes = Array(text.utf8)
            guard let message = bytes.withUnsafeBytes({ ServerMessage.parse($0) }) else { return false }
            switch message {
            case .message(let topic, let epoch, let seq, let data):
                printed(topic: topic, epoch: epoch, seq: seq)
                if json {
                    output(bytes)
                } else if let string = data.withUnsafeBytes({ JSON.decodeString($0) }), data.first == UInt8(ascii: "\"") {
                    output(Array(string.utf8), topic: topic, seq: seq)
                } else {
                    output(data, topic: topic, seq: seq)
                }
                return true
            case .ack(_, "subscribe", let topic, _, _, _) where text.contains("\"recovered\":false"):
                CLI.warn("\(topic): history did not hold every message since the requested position; some were lost")
                return false
            case .error(let code, let message, let id, let topic, _):
                if let id, id.hasPrefix("\"s") { throw SubscribeRefused(message: "cannot subscribe to '\(topic ?? "")': \(code): \(message)") }
                CLI.warn("server error \(code): \(message)")
                return false
            default:
                return false
            }
        case .binary(let bytes):
            guard let message = bytes.withUnsafeBytes({ BinaryLayout.parseMessage($0) }) else { return false }
            let payload = Array(bytes[message.payload])
            printed(topic: message.topic, epoch: message.epoch, seq: message.seq)
            if json {
                output(Array(("{\"type\":\"message\",\"topic\":\(JSONText.quoted(message.topic)),\"epoch\":\"\(message.epoch)\","
                    + "\"seq\":\(message.seq),\"binary\":\"\(Base64.encode(payload))\"}").utf8))
            } else if raw {
                FileHandle.standardOutput.write(Data(payload))
            } else {
                output(Array(Base64.encode(payload).utf8), topic: message.topic, seq: message.seq)
            }
            return true
        case .close(let code, let reason):
            throw ServerClosed(code: code, reason: reason)
        case .pong:
            return false
        }
    }

    private func output(_ line: [UInt8]) {
        FileHandle.standardOutput.write(Data(line + [UInt8(ascii: "\n")]))
    }

    /// A payload's line, after its topic when `showTopic`, after topic and `#seq` with `-v`.
    private func output(_ payload: [UInt8], topic: String, seq: UInt64) {
        if verbose { return output(Array("\(topic) #\(seq) ".utf8) + payload) }
        output(showTopic ? Array(topic.utf8) + [UInt8(ascii: " ")] + payload : payload)
    }
}

struct SubscribeRefused: Error, CustomStringConvertible {
    let message: String
    var description: String { message }
}

struct ServerClosed: Error, CustomStringConvertible {
    let code: UInt16?
    let reason: String
    var description: String { "server closed the connection (\(code.map(String.init) ?? "no code")\(reason.isEmpty ? "" : ": \(reason)"))" }
}
