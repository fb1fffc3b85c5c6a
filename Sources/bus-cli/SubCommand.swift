import Broker
import BusProtocol
import Foundation
import Frames
import Topics

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
          --reconnect    reconnect with backoff when the connection drops; topics and
                         patterns resume from the last message printed, losing nothing
                         that history still holds (and saying so when it did not)
          --since EPOCH:SEQ  start with the retained messages after this position of a
                         literal TOPIC (positions are in --json output and acks)
          --since CURSOR start a pattern with the retained messages after this cursor
                         (--json prints a pattern's cursors as checkpoint envelopes)
          --last N       start with the newest N retained messages (of each matching
                         topic, for a pattern)

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
    /// Each pattern's cursor (Protocol.md "Resuming a pattern"): from `--since`, then from its
    /// ack and checkpoints; with the positions printed since its last checkpoint.
    private var cursors: [String: Cursor] = [:]
    private var heldPositions: [String: [String: ResumePosition]] = [:]
    /// The TOPICs that are patterns, parsed once to match messages against them.
    private let patterns: [(text: String, pattern: TopicPattern)]

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
        patterns = topics.filter(CLI.isPattern).compactMap { text in (try? TopicPattern(text)).map { (text, $0) } }
        var start: ClientRequest.Resume?
        if let since = flags.value("since") {
            if let cursor = Cursor(parsing: since) {
                if let topic = topics.first(where: { !CLI.isPattern($0) }) {
                    throw UsageError("--since CURSOR resumes patterns: '\(topic)' is a topic, give EPOCH:SEQ")
                }
                for topic in topics { cursors[topic] = cursor }
            } else {
                let parts = since.split(separator: ":")
                guard parts.count == 2, let seq = UInt64(parts[1]) else {
                    throw UsageError("--since: '\(since)' is neither EPOCH:SEQ nor a cursor")
                }
                if let pattern = topics.first(where: CLI.isPattern) {
                    throw UsageError("--since EPOCH:SEQ is a topic's position: '\(pattern)' is a pattern, give its cursor")
                }
                start = .since(epoch: String(parts[0]), seq: seq)
            }
        }
        if let last = try flags.integer("last") {
            guard start == nil && cursors.isEmpty else { throw UsageError("--since and --last exclude each other") }
            start = .last(last)
        }
        if let start { for topic in topics { resumeFrom[topic] = start } }
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
        let client = try WebSocketClient(url: url, subprotocols: ["bus.v1"], headers: headers)
        for (index, topic) in topics.enumerated() {
            let id = "s\(index)"
            let request: [UInt8]
            if let cursor = cursors[topic] {
                let held = Array((heldPositions[topic] ?? [:]).values.prefix(ClientRequest.maxResumePositions))
                request = ClientEnvelope.subscribe(topic: topic, id: id, resume: .cursor(cursor, positions: held))
            } else if let resume = resumeFrom[topic] {
                request = ClientEnvelope.subscribe(topic: topic, id: id, resume: resume)
            } else {
                // A pattern follows its cursor only when it may have to resume.
                request = ClientEnvelope.subscribe(topic: topic, id: id, checkpoints: reconnect && CLI.isPattern(topic))
            }
            try client.send(text: String(decoding: request, as: UTF8.self))
        }
        return client
    }

    /// Remembers the position of a printed message, for `--reconnect`.
    private mutating func printed(topic: String, epoch: String, seq: UInt64) {
        guard reconnect else { return }
        if topics.contains(topic) { resumeFrom[topic] = .since(epoch: epoch, seq: seq) }
        guard !cursors.isEmpty, let name = try? TopicName(topic) else { return }
        for (text, pattern) in patterns where cursors[text] != nil && pattern.matches(name) {
            heldPositions[text, default: [:]][topic] = ResumePosition(topic: topic, epoch: epoch, seq: seq)
        }
    }

    /// A pattern's ack or checkpoint: its new cursor, and nothing held past it yet (an ack
    /// keeps the positions: they are past the cursor it starts from).
    private mutating func follow(_ pattern: String, cursor text: String?, checkpoint: Bool) {
        guard let text, let cursor = Cursor(parsing: text), topics.contains(pattern) else { return }
        cursors[pattern] = cursor
        if checkpoint { heldPositions[pattern] = [:] }
    }

    /// What an ack with `recovered: false` means, in words.
    private func lossWarning(_ topic: String, ack text: String) -> String {
        guard CLI.isPattern(topic) else {
            return "\(topic): messages since the last one received may have been lost (history no longer held them all, "
                + "or the server restarted without --data-dir)"
        }
        let lost = text.components(separatedBy: #"{"topic":""#).dropFirst().compactMap { $0.split(separator: "\"").first }
        guard !lost.isEmpty else {
            return "\(topic): messages since the last one received may have been lost (the server restarted without "
                + "--data-dir, or cannot tell)"
        }
        return "\(topic): messages since the last one received were lost on \(lost.joined(separator: ", ")) (history no longer held them)"
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
            case .ack(_, "subscribe", let topic, _, _, _):
                follow(topic, cursor: ServerMessage.stringField("cursor", in: text), checkpoint: false)
                if text.contains("\"recovered\":false") { CLI.warn(lossWarning(topic, ack: text)) }
                return false
            case .checkpoint(let pattern, let cursor):
                follow(pattern, cursor: cursor, checkpoint: true)
                if json { output(bytes) }
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
