import BusClient
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
          --reconnect    reconnect with backoff when the connection drops; topics and
                         patterns resume from the last message printed, losing nothing
                         that history still holds (and saying so when it did not)
          --since EPOCH:SEQ  start with the retained messages after this position of a
                         literal TOPIC (positions are in --json and -v output)
          --last N       start with the newest N retained messages (of each matching
                         topic, for a pattern)

        """

    /// The flags that take a value and those that do not: the parser and `completion` read both.
    static let options: Set<String> = ["url", "count", "since", "last", "token"]
    static let switches: Set<String> = ["json", "raw", "reconnect", "verbose"]

    let url: WebSocketURL
    let token: String?
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
    /// Where each subscription starts (BusClient resumes it from there on).
    let start: StartPosition

    init(_ arguments: [String]) throws {
        let flags = try Flags(arguments, options: Self.options, switches: Self.switches, help: Self.help, shortSwitches: ["v": "verbose"])
        guard !flags.positional.isEmpty else { throw UsageError("sub needs at least one TOPIC") }
        topics = flags.positional
        url = try CLI.url(flags.value("url"))
        token = CLI.token(flags.value("token"))
        json = flags.has("json")
        raw = flags.has("raw")
        count = try flags.integer("count")
        reconnect = flags.has("reconnect")
        verbose = flags.has("verbose")
        showTopic = topics.count > 1 || topics.contains(where: CLI.isPattern)
        var start = StartPosition.now
        if let since = flags.value("since") {
            let parts = since.split(separator: ":")
            guard parts.count == 2, let seq = UInt64(parts[1]) else { throw UsageError("--since: '\(since)' is not EPOCH:SEQ") }
            if let pattern = topics.first(where: CLI.isPattern) {
                throw UsageError("--since EPOCH:SEQ is a topic's position: '\(pattern)' is a pattern (use --last, or --reconnect to resume)")
            }
            start = .after(epoch: String(parts[0]), seq: seq)
        }
        if let last = try flags.integer("last") {
            guard start == .now else { throw UsageError("--since and --last exclude each other") }
            start = .last(last)
        }
        self.start = start
    }

    /// Subscribes to every TOPIC through BusClient (which resumes each one after any cut
    /// when `--reconnect` is given) and prints their messages as they come.
    func run() async throws {
        var options = BusClient.Options(token: token)
        options.reconnect = reconnect
        let bus = try BusClient(url: url.description, options: options)
        defer { bus.close() }
        var subscriptions: [Subscription] = []
        for topic in topics {
            do { subscriptions.append(try await bus.subscribe(topic, from: start)) } catch .refused(let code, let message) {
                throw SubscribeRefused(message: "cannot subscribe to '\(topic)': \(code): \(message)")
            }
        }
        let printer = Printer(command: self)
        try await withThrowingTaskGroup(of: Void.self) { group in
            for subscription in subscriptions {
                group.addTask {
                    for try await event in subscription {
                        if await printer.take(event, from: subscription.pattern) { return }
                    }
                }
            }
            // The first to finish (--count reached, or an error) ends them all.
            try await group.next()
            group.cancelAll()
        }
    }

    /// One message's output, as documented: a string payload's text, other JSON as it came,
    /// binary as base64 (or raw bytes with --raw); whole envelopes with --json.
    fileprivate func print(_ message: BusMessage) {
        switch message.payload {
        case .json(let data):
            if json {
                output(ServerEnvelope.messagePrefix(topic: message.topic, epoch: message.epoch, seq: message.seq) + data
                    + [ServerEnvelope.messageSuffix])
            } else if data.first == UInt8(ascii: "\""), let string = data.withUnsafeBytes({ JSON.decodeString($0) }) {
                output(Array(string.utf8), topic: message.topic, seq: message.seq)
            } else {
                output(data, topic: message.topic, seq: message.seq)
            }
        case .binary(let payload):
            if json {
                output(Array(("{\"type\":\"message\",\"topic\":\(JSONText.quoted(message.topic)),\"epoch\":\"\(message.epoch)\","
                    + "\"seq\":\(message.seq),\"binary\":\"\(Base64.encode(payload))\"}").utf8))
            } else if raw {
                FileHandle.standardOutput.write(Data(payload))
            } else {
                output(Array(Base64.encode(payload).utf8), topic: message.topic, seq: message.seq)
            }
        }
    }

    /// What a gap means, in words: messages *may* have been lost unless history named them.
    fileprivate func warn(_ gap: BusGap, on pattern: String) {
        switch gap.cause {
        case .epochChanged:
            CLI.warn("\(gap.lost.map(\.topic).joined(separator: ", ")): the topic started a new epoch; messages may have been lost")
        case .historyIncomplete:
            let named = gap.lost.filter { $0.earliest != nil }.map(\.topic)
            if named.isEmpty {
                CLI.warn("\(pattern): messages since the last one received may have been lost (history no longer held them, "
                    + "or the server restarted without --data-dir)")
            } else {
                CLI.warn("\(pattern): messages since the last one received were lost on \(named.joined(separator: ", ")) "
                    + "(history no longer held them)")
            }
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

/// Prints the subscriptions' events one at a time, each message once (overlapping TOPICs
/// both receive it), and counts them for `--count`.
private actor Printer {
    let command: SubCommand
    private var printed = 0
    /// Recent (topic, epoch, seq) printed, to print a message two subscriptions share once.
    private var recent: Set<String> = []
    private var order: [String] = []

    init(command: SubCommand) { self.command = command }

    /// Prints `event`; true once `--count` messages have been printed.
    func take(_ event: SubscriptionEvent, from pattern: String) -> Bool {
        switch event {
        case .gap(let gap):
            command.warn(gap, on: pattern)
        case .message(let message):
            let key = "\(message.epoch) \(message.seq) \(message.topic)"
            if command.topics.count > 1 {
                guard recent.insert(key).inserted else { return false }
                order.append(key)
                if order.count > 4096 { recent.remove(order.removeFirst()) }
            }
            command.print(message)
            printed += 1
        }
        return command.count.map { printed >= $0 } ?? false
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
