import Foundation
import Topics

/// broker-server's command line: every option is a flag (`--port 9000` or `--port=9000`) and an
/// environment variable (`BUS_PORT=9000`); a flag wins over the environment, which wins over
/// the default. Parsing is pure (arguments and environment in, config out) so it is tested
/// without starting anything.
public struct ServerOptions {
    public var config = ServerConfig()
    public var log = Log()
    public var showHelp = false

    struct Option: Sendable {
        let name: String
        let value: String   // placeholder shown in --help
        let help: String
        let apply: @Sendable (inout ServerOptions, String) throws(ConfigError) -> Void
        var environment: String { "BUS_" + name.uppercased().replacingOccurrences(of: "-", with: "_") }
    }

    static let options: [Option] = [
        Option(name: "host", value: "ADDR[,ADDR]", help: "addresses to listen on; :: is IPv6 and IPv4 (default 127.0.0.1)") { o, v throws(ConfigError) in
            o.config.hosts = v.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        },
        Option(name: "port", value: "PORT", help: "TCP port; 0 picks a free one (default 8080)") { o, v throws(ConfigError) in
            o.config.port = try number(v, "port", UInt16.self)
        },
        Option(name: "loops", value: "N", help: "event loop threads; 0 = one per CPU (default 0)") { o, v throws(ConfigError) in
            o.config.loops = try number(v, "loops", Int.self)
        },
        Option(name: "max-message-size", value: "BYTES", help: "largest message a client may send (default 1048576)") { o, v throws(ConfigError) in
            o.config.maxMessageSize = try number(v, "max-message-size", Int.self)
        },
        Option(name: "max-handshake-size", value: "BYTES", help: "largest HTTP request head (default 8192)") { o, v throws(ConfigError) in
            o.config.maxHandshakeSize = try number(v, "max-handshake-size", Int.self)
        },
        Option(name: "handshake-timeout", value: "SECONDS", help: "time to complete the HTTP request head (default 10)") { o, v throws(ConfigError) in
            o.config.handshakeTimeout = try number(v, "handshake-timeout", Double.self)
        },
        Option(name: "ping-interval", value: "SECONDS", help: "ping a quiet connection this often (default 25)") { o, v throws(ConfigError) in
            o.config.pingInterval = try number(v, "ping-interval", Double.self)
        },
        Option(name: "idle-timeout", value: "SECONDS", help: "drop a peer silent this long, pongs included (default 60)") { o, v throws(ConfigError) in
            o.config.idleTimeout = try number(v, "idle-timeout", Double.self)
        },
        Option(name: "close-timeout", value: "SECONDS", help: "wait this long for the peer's close frame (default 5)") { o, v throws(ConfigError) in
            o.config.closeTimeout = try number(v, "close-timeout", Double.self)
        },
        Option(name: "send-queue-messages", value: "N", help: "per-connection send queue bound in messages (default 256)") { o, v throws(ConfigError) in
            o.config.sendQueueMessages = try number(v, "send-queue-messages", Int.self)
        },
        Option(name: "send-queue-bytes", value: "BYTES", help: "per-connection send queue bound in bytes (default max(4194304, 2 x max message))") { o, v throws(ConfigError) in
            o.config.sendQueueBytes = try number(v, "send-queue-bytes", Int.self)
        },
        Option(name: "socket-send-buffer", value: "BYTES", help: "kernel send buffer per connection (default: kernel autotuning)") { o, v throws(ConfigError) in
            o.config.socketSendBuffer = try number(v, "socket-send-buffer", Int.self)
        },
        Option(name: "max-connections", value: "N", help: "most open connections; beyond it HTTP 503 (default: file limit - 64)") { o, v throws(ConfigError) in
            o.config.maxConnections = try number(v, "max-connections", Int.self)
        },
        Option(name: "max-subscriptions", value: "N", help: "patterns one connection may hold (default 1000)") { o, v throws(ConfigError) in
            o.config.maxSubscriptions = try number(v, "max-subscriptions", Int.self)
        },
        Option(name: "max-topic-length", value: "BYTES", help: "longest topic name (default 256)") { o, v throws(ConfigError) in
            o.config.maxTopicLength = try number(v, "max-topic-length", Int.self)
        },
        Option(name: "max-topic-depth", value: "N", help: "most dot-separated segments in a topic (default 16)") { o, v throws(ConfigError) in
            o.config.maxTopicDepth = try number(v, "max-topic-depth", Int.self)
        },
        Option(name: "max-topics", value: "N", help: "topic states kept, least recently used evicted (default 100000)") { o, v throws(ConfigError) in
            o.config.maxTopics = try number(v, "max-topics", Int.self)
        },
        Option(name: "history-messages", value: "N", help: "messages kept per topic for resume; 0 = off (default 100)") { o, v throws(ConfigError) in
            o.config.historyMessages = try number(v, "history-messages", Int.self)
        },
        Option(name: "history-age", value: "SECONDS", help: "how long history keeps a message (default 120)") { o, v throws(ConfigError) in
            o.config.historyAge = try number(v, "history-age", Double.self)
        },
        Option(name: "history-bytes", value: "BYTES", help: "history budget across all topics (default 67108864)") { o, v throws(ConfigError) in
            o.config.historyBytes = try number(v, "history-bytes", Int.self)
        },
        Option(name: "history", value: "PATTERN=N[:SECONDS]", help: "history for topics matching PATTERN; repeatable, first match wins") { o, v throws(ConfigError) in
            o.config.historyOverrides.append(try historyOverride(v, defaultAge: o.config.historyAge))
        },
        Option(name: "log-level", value: "LEVEL", help: "debug, info, warn or error (default info)") { o, v throws(ConfigError) in
            guard let level = Log.Level(name: v) else { throw ConfigError(option: "log-level", message: "'\(v)' is not debug, info, warn or error") }
            o.log.level = level
        },
        Option(name: "log-format", value: "FORMAT", help: "logfmt or json (default logfmt)") { o, v throws(ConfigError) in
            guard let format = Log.Format(rawValue: v) else { throw ConfigError(option: "log-format", message: "'\(v)' is not logfmt or json") }
            o.log.format = format
        },
    ]

    /// `PATTERN=MESSAGES[:SECONDS]`, e.g. `prices.>=1000:30` or `chat.*=0`.
    static func historyOverride(_ text: String, defaultAge: Double) throws(ConfigError) -> ServerConfig.HistoryOverride {
        guard let equals = text.lastIndex(of: "=") else {
            throw ConfigError(option: "history", message: "'\(text)' is not PATTERN=MESSAGES[:SECONDS]")
        }
        let pattern: TopicPattern
        do { pattern = try TopicPattern(String(text[..<equals])) } catch {
            throw ConfigError(option: "history", message: "'\(text[..<equals])': \(error.message)")
        }
        let policy = text[text.index(after: equals)...].split(separator: ":", omittingEmptySubsequences: false)
        guard policy.count <= 2, let messages = Int(policy[0]), messages >= 0 else {
            throw ConfigError(option: "history", message: "'\(text)' is not PATTERN=MESSAGES[:SECONDS]")
        }
        var age = defaultAge
        if policy.count == 2 {
            guard let seconds = Double(policy[1]), seconds > 0 else {
                throw ConfigError(option: "history", message: "'\(policy[1])' is not a number of seconds")
            }
            age = seconds
        }
        return ServerConfig.HistoryOverride(pattern: pattern, messages: messages, age: age)
    }

    static func number<T: LosslessStringConvertible>(_ text: String, _ option: String, _: T.Type) throws(ConfigError) -> T {
        guard let value = T(text.trimmingCharacters(in: .whitespaces)) else {
            throw ConfigError(option: option, message: "'\(text)' is not a valid \(T.self == Double.self ? "number" : "whole number")")
        }
        return value
    }

    /// Parses `arguments` (without the program name) over `environment`, then validates.
    public static func parse(_ arguments: [String], environment: [String: String]) throws(ConfigError) -> ServerOptions {
        var parsed = ServerOptions()
        for option in options {
            if let value = environment[option.environment] { try option.apply(&parsed, value) }
        }
        var index = 0
        while index < arguments.count {
            let argument = arguments[index]
            index += 1
            if argument == "--help" || argument == "-h" { parsed.showHelp = true; continue }
            guard argument.hasPrefix("--") else {
                throw ConfigError(option: argument, message: "unexpected argument (see --help)")
            }
            var name = String(argument.dropFirst(2))
            var value: String?
            if let equals = name.firstIndex(of: "=") {
                value = String(name[name.index(after: equals)...])
                name = String(name[..<equals])
            }
            guard let option = options.first(where: { $0.name == name }) else {
                throw ConfigError(option: name, message: "unknown option (see --help)")
            }
            if value == nil {
                guard index < arguments.count else { throw ConfigError(option: name, message: "needs a value: --\(name) \(option.value)") }
                value = arguments[index]
                index += 1
            }
            try option.apply(&parsed, value!)
        }
        if !parsed.showHelp { parsed.config = try parsed.config.validated() }
        return parsed
    }

    public static var helpText: String {
        var text = """
            broker-server: a WebSocket pub/sub broker.

            Usage: broker-server [options]

            Serves ws://HOST:PORT/bus (pub/sub, see Protocol.md), ws://HOST:PORT/echo (echo),
            POST /publish/TOPIC, GET / and GET /healthz.
            Every option can also be set as an environment variable; a flag wins.

            Options:

            """
        for option in options {
            let flag = "  --\(option.name) \(option.value)"
            let padded = flag + String(repeating: " ", count: max(1, 34 - flag.count))
            text += "\(padded)\(option.help)  [\(option.environment)]\n"
        }
        text += "  --help                          this text\n"
        return text
    }
}
