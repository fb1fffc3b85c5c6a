import Auth
import BusProtocol
import Topics

/// broker-server's configuration from four places, each overriding the one before:
/// defaults < config file (`--config FILE` or `BUS_CONFIG`, JSON) < environment
/// (`BUS_PORT=9000`) < flags (`--port 9000` or `--port=9000`). One table of options names
/// each once; its flag, variable, config file key and error messages all derive from that
/// name, and a plain default shown in --help is read from `ServerConfig()`.
///
/// Parsing is pure (arguments, environment and the config file's bytes in, options out), so it
/// is tested without a file system or a socket; `load` adds the one read of the file.
public struct ServerOptions {
    public var config = ServerConfig()
    public var log = Log()
    public var showHelp = false
    /// The config file named by `--config` or `BUS_CONFIG` (flag first), if any.
    public var configPath: String?

    /// One setting. Its config file key is `key`, inside the object `section` when there is one;
    /// its flag and variable join the section and key: a future
    /// `Option("jwt-secret", in: "auth", ...)` is `--auth-jwt-secret`, `BUS_AUTH_JWT_SECRET` and
    /// `{"auth": {"jwt-secret": "…"}}` in the file. Every value arrives as text (the flag's
    /// form); the config file's JSON value is turned into that text according to `kind`.
    struct Option: Sendable {
        /// What JSON a config file may hold for the option.
        enum Kind: Sendable {
            /// A JSON integer (a number with no fraction).
            case integer
            /// A JSON number of seconds.
            case seconds
            /// A JSON string.
            case text
            /// A string, or an array of strings (joined with commas, as the flag takes them).
            case list
            /// Any JSON value, passed on as JSON text (the flag takes the same text).
            case json
        }

        let key: String
        let section: String?
        let kind: Kind
        let value: String   // placeholder shown in --help
        let defaultValue: String
        let help: String
        /// Stores a value; gets the option's `name` too, for its errors.
        let apply: @Sendable (_ options: inout ServerOptions, _ value: String, _ name: String) throws(ConfigError) -> Void

        init(_ key: String, in section: String? = nil, _ kind: Kind, _ value: String, default defaultValue: String,
             _ help: String,
             apply: @escaping @Sendable (inout ServerOptions, String, String) throws(ConfigError) -> Void) {
            self.key = key
            self.section = section
            self.kind = kind
            self.value = value
            self.defaultValue = defaultValue
            self.help = help
            self.apply = apply
        }

        /// The flag name (without `--`), also the name errors use.
        var name: String { section.map { "\($0)-\(key)" } ?? key }
        var environment: String { "BUS_" + String(name.uppercased().map { $0 == "-" ? "_" : $0 }) }
        /// Where the option sits in a config file, for messages: `port`, `auth.jwt-secret`.
        var fileKey: String { section.map { "\($0).\(key)" } ?? key }

        /// A number stored at `path`; --help shows `ServerConfig()`'s value there.
        static func number<T: LosslessStringConvertible & Sendable>(
            _ key: String, in section: String? = nil, _ kind: Kind, _ value: String,
            _ path: WritableKeyPath<ServerConfig, T> & Sendable, _ help: String
        ) -> Option {
            Option(key, in: section, kind, value, default: show(ServerConfig()[keyPath: path]), help) { o, v, name throws(ConfigError) in
                o.config[keyPath: path] = try ServerOptions.number(v, name, T.self)
            }
        }

        /// A number whose default (nil) is derived at run time, described by `derived`.
        static func number<T: LosslessStringConvertible & Sendable>(
            _ key: String, _ kind: Kind, _ value: String,
            _ path: WritableKeyPath<ServerConfig, T?> & Sendable, derived: String, _ help: String
        ) -> Option {
            Option(key, kind, value, default: derived, help) { o, v, name throws(ConfigError) in
                o.config[keyPath: path] = try ServerOptions.number(v, name, T.self)
            }
        }

        /// Comma-separated text stored at `path`; an empty default is shown as `empty`.
        static func list(_ key: String, _ value: String, _ path: WritableKeyPath<ServerConfig, [String]> & Sendable,
                         empty: String = "none", _ help: String) -> Option {
            let defaults = ServerConfig()[keyPath: path]
            return Option(key, .list, value, default: defaults.isEmpty ? empty : defaults.joined(separator: ","), help) { o, v, _ throws(ConfigError) in
                o.config[keyPath: path] = v.split(separator: ",").map { String($0.trimmingWhitespace) }.filter { !$0.isEmpty }
            }
        }

        /// A default as the flag would take it: whole seconds and rates without a fraction.
        static func show(_ value: some LosslessStringConvertible) -> String {
            if let number = value as? Double, number == number.rounded(.towardZero), let whole = Int(exactly: number) {
                return String(whole)
            }
            return value.description
        }
    }

    /// A default duration as the flag would take it (`0`, `500us`, `1ms`).
    static func showDuration(_ nanos: UInt64) -> String {
        if nanos == 0 { return "0" }
        return nanos % 1_000_000 == 0 ? "\(nanos / 1_000_000)ms" : "\(Double(nanos) / 1_000)us"
    }

    /// The flag and variable that name the config file; not an option of the file itself.
    static let configFlag = "config"
    static let configVariable = "BUS_CONFIG"

    static let options: [Option] = [
        .list("host", "ADDR[,ADDR]", \.hosts, "addresses to listen on; :: is IPv6 and IPv4"),
        .number("port", .integer, "PORT", \.port, "TCP port; 0 picks a free one"),
        .number("loops", .integer, "N", \.loops, "event loop threads; 0 = one per CPU but one (at least one)"),
        .number("max-message-size", .integer, "BYTES", \.maxMessageSize, "largest message a client may send"),
        .number("max-handshake-size", .integer, "BYTES", \.maxHandshakeSize, "largest HTTP request head"),
        .number("handshake-timeout", .seconds, "SECONDS", \.handshakeTimeout, "time to complete an HTTP request (head and publish body)"),
        .number("ping-interval", .seconds, "SECONDS", \.pingInterval, "ping a quiet connection this often"),
        .number("idle-timeout", .seconds, "SECONDS", \.idleTimeout, "drop a peer silent this long, pongs included"),
        .number("sse-heartbeat", .seconds, "SECONDS", \.sseHeartbeat, "write a quiet Server-Sent Events stream an empty event this often"),
        .number("close-timeout", .seconds, "SECONDS", \.closeTimeout, "wait this long for the peer's close frame"),
        .number("slow-consumer-grace", .seconds, "SECONDS", \.slowConsumerGrace, "time a dropped slow consumer has to read its notice and close"),
        .number("send-queue-messages", .integer, "N", \.sendQueueMessages, "per-connection send queue bound in messages"),
        .number("send-queue-bytes", .integer, "BYTES", \.sendQueueBytes, derived: "max(4194304, 2 x max message)", "per-connection send queue bound in bytes"),
        .number("socket-send-buffer", .integer, "BYTES", \.socketSendBuffer, derived: "kernel autotuning", "kernel send buffer per connection"),
        Option("flush-delay", .text, "DURATION", default: showDuration(ServerConfig().flushDelayNanos),
               "coalesce writes: flush at most this often, e.g. 1ms or 500us (max 100ms)") { o, v, name throws(ConfigError) in
            o.config.flushDelayNanos = try duration(v, name)
        },
        Option("io-uring", .text, "on|off", default: ServerConfig().ioUring ? "on" : "off",
               "write each loop turn's dirty connections with one io_uring submission (sendmsg where unavailable)") { o, v, name throws(ConfigError) in
            switch v.lowercased() {
            case "on", "true", "1": o.config.ioUring = true
            case "off", "false", "0": o.config.ioUring = false
            default: throw ConfigError(option: name, message: "'\(v)' is not on or off")
            }
        },
        Option("compression", .text, "on|off", default: ServerConfig().compression ? "on" : "off",
               "permessage-deflate for clients that offer it, each message compressed once") { o, v, name throws(ConfigError) in
            switch v.lowercased() {
            case "on", "true", "1": o.config.compression = true
            case "off", "false", "0": o.config.compression = false
            default: throw ConfigError(option: name, message: "'\(v)' is not on or off")
            }
        },
        .number("compression-min-bytes", .integer, "BYTES", \.compressionMinBytes, "frames shorter than this are sent uncompressed"),
        Option("compression-exclude", .list, "PATTERN[,PATTERN]", default: "none",
               "topics whose messages are never compressed") { o, v, name throws(ConfigError) in
            o.config.compressionExclude = try v.split(separator: ",").map { (item: Substring) throws(ConfigError) -> TopicPattern in
                let text = String(item.trimmingWhitespace)
                do throws(TopicError) { return try TopicPattern(text) } catch { throw ConfigError(option: name, message: "'\(text)': \(error.message)") }
            }
        },
        .number("max-connections", .integer, "N", \.maxConnections, derived: "file limit - 64", "most open connections; beyond it HTTP 503"),
        .number("max-subscriptions", .integer, "N", \.maxSubscriptions, "patterns one connection may hold"),
        .number("max-topic-length", .integer, "BYTES", \.maxTopicLength, "longest topic name"),
        .number("max-topic-depth", .integer, "N", \.maxTopicDepth, "most dot-separated segments in a topic"),
        .number("max-topics", .integer, "N", \.maxTopics, "topic states kept, least recently used evicted"),
        .list("allowed-origin", "ORIGIN[,ORIGIN]", \.allowedOrigins, empty: "same host only",
              "browser origins allowed besides the server's own host (*.example.com for subdomains)"),
        .number("publish-rate", .integer, "PER_SECOND", \.publishRate, "publishes per second per connection; 0 = unlimited"),
        .number("publish-burst", .integer, "N", \.publishBurst, "publishes a connection may make at once"),
        .number("subscribe-rate", .integer, "PER_SECOND", \.subscribeRate, "subscribes + unsubscribes per second per connection; 0 = unlimited"),
        .number("subscribe-burst", .integer, "N", \.subscribeBurst, "subscribes + unsubscribes a connection may make at once"),
        .list("trusted-proxy", "ADDR[/BITS][,...]", \.trustedProxies, "reverse proxies whose X-Forwarded-For names the real client"),
        .number("max-connections-per-ip", .integer, "N", \.maxConnectionsPerIP, "open connections per client address; 0 = no limit"),
        .number("connection-rate-per-ip", .integer, "PER_SECOND", \.connectionRatePerIP, "new connections per second per client address; 0 = no limit"),
        .number("max-reassembly-bytes", .integer, "BYTES", \.maxReassemblyBytes, "memory all partly received messages may hold"),
        .number("max-queued-bytes", .integer, "BYTES", \.maxQueuedBytes, "memory all send queues may hold"),
        .number("history-messages", .integer, "N", \.historyMessages, "messages kept per topic for resume; 0 = off"),
        .number("history-age", .seconds, "SECONDS", \.historyAge, "how long history keeps a message"),
        .number("history-bytes", .integer, "BYTES", \.historyBytes, "history budget across all topics"),
        Option("history", .list, "PATTERN=N[:SECONDS],...", default: "none",
               "history for topics matching PATTERN (first match wins; N=0 turns it off)") { o, v, _ throws(ConfigError) in
            o.config.historyOverrides = try v.split(separator: ",").map { item throws(ConfigError) in
                try historyOverride(String(item.trimmingWhitespace), defaultAge: o.config.historyAge)
            }
        },
        Option("data-dir", .text, "DIR", default: "none (history in memory only)",
               "keep history in DIR (created 0700) so it survives a restart; one broker per DIR") { o, v, _ throws(ConfigError) in
            o.config.dataDir = v.isEmpty ? nil : v
        },
        Option("durability", .text, "none|write|fsync", default: ServerConfig().durability.rawValue,
               "with --data-dir, what a delivery waits for: nothing, the write (survives a crash) or fsync (survives power loss)") { o, v, name throws(ConfigError) in
            guard let mode = Durability(rawValue: v.lowercased()) else {
                throw ConfigError(option: name, message: "'\(v)' is not none, write or fsync")
            }
            o.config.durability = mode
        },
        Option("nats", .text, "nats://HOST:PORT", default: "none (run alone)",
               "cluster mode: share topics with other nodes through this NATS server") { o, v, _ throws(ConfigError) in
            o.config.natsURL = v.isEmpty ? nil : v
        },
        Option("node-name", .text, "NAME", default: "bus-HOSTNAME-PID", "this node's name on NATS, in logs and /healthz") { o, v, _ throws(ConfigError) in
            o.config.nodeName = v.isEmpty ? nil : v
        },
        Option("jwt-secret", in: "auth", .text, "SECRET", default: "none",
               "HS256 key (32+ bytes) for JWTs; prefer --auth-jwt-secret-file") { o, v, _ throws(ConfigError) in
            o.config.auth.jwtSecret = v
        },
        Option("jwt-secret-file", in: "auth", .text, "FILE", default: "none",
               "file holding the HS256 key for JWTs (a trailing newline is ignored)") { o, v, _ throws(ConfigError) in
            o.config.auth.jwtSecretFile = v
        },
        Option("tokens", in: "auth", .json, "JSON", default: "none",
               "static tokens: [{\"token\":..., \"publish\":[patterns], \"subscribe\":[patterns]}]") { o, v, name throws(ConfigError) in
            do throws(AuthConfigError) { o.config.auth.tokens = try StaticTokens(json: Array(v.utf8)) } catch {
                throw ConfigError(option: name, message: error.message)
            }
        },
        .number("leeway", in: "auth", .seconds, "SECONDS", \.auth.leeway, "clock skew allowed on JWT exp and nbf"),
        Option("log-level", .text, "LEVEL", default: Log().level.name, "debug, info, warn or error") { o, v, name throws(ConfigError) in
            guard let level = Log.Level(name: v) else { throw ConfigError(option: name, message: "'\(v)' is not debug, info, warn or error") }
            o.log.level = level
        },
        Option("log-format", .text, "FORMAT", default: Log().format.rawValue, "logfmt or json") { o, v, name throws(ConfigError) in
            guard let format = Log.Format(rawValue: v) else { throw ConfigError(option: name, message: "'\(v)' is not logfmt or json") }
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
        let trimmed = String(text.trimmingWhitespace)
        guard let value = T(trimmed) else {
            // A whole number the option's type cannot hold (`--port 99999`) is out of range,
            // not malformed: say which range.
            if let integer = T.self as? any FixedWidthInteger.Type, !trimmed.isEmpty,
               trimmed.drop(while: { $0 == "-" }).allSatisfy({ $0.isASCII && $0.isNumber }), trimmed.dropFirst().allSatisfy({ $0 != "-" }) {
                throw ConfigError(option: option, message: "'\(text)' is out of range: \(integer.min) to \(integer.max)")
            }
            throw ConfigError(option: option, message: "'\(text)' is not a valid \(T.self == Double.self ? "number" : "whole number")")
        }
        return value
    }

    /// `0`, `250us`, `1ms`, `0.5ms`, `0.002s` → nanoseconds.
    static func duration(_ text: String, _ option: String) throws(ConfigError) -> UInt64 {
        let trimmed = String(text.trimmingWhitespace)
        for (unit, scale) in [("us", 1e3), ("ms", 1e6), ("s", 1e9)] where trimmed.hasSuffix(unit) {
            // Below 2^64 ns before converting: UInt64(Double) traps past it (validation bounds it further).
            if let value = Double(trimmed.dropLast(unit.count)), value >= 0, value * scale < 18_446_744_073_709_551_616.0 {
                return UInt64(value * scale)
            }
            break
        }
        if trimmed == "0" { return 0 }
        throw ConfigError(option: option, message: "'\(text)' is not a duration such as 1ms or 500us")
    }

    /// The command line split into option settings, before anything is applied.
    struct Flags {
        var settings: [(Option, String)] = []
        var configPath: String?
        var showHelp = false
    }

    static func scan(_ arguments: [String], options: [Option]) throws(ConfigError) -> Flags {
        var flags = Flags()
        var index = 0
        while index < arguments.count {
            let argument = arguments[index]
            index += 1
            if argument == "--help" || argument == "-h" { flags.showHelp = true; continue }
            guard argument.hasPrefix("--") else {
                throw ConfigError(option: argument, message: "unexpected argument (see --help)")
            }
            var name = String(argument.dropFirst(2))
            var value: String?
            if let equals = name.firstIndex(of: "=") {
                value = String(name[name.index(after: equals)...])
                name = String(name[..<equals])
            }
            let option = options.first(where: { $0.name == name })
            guard option != nil || name == configFlag else {
                throw ConfigError(option: name, message: "unknown option (see --help)")
            }
            if value == nil {
                guard index < arguments.count else {
                    throw ConfigError(option: name, message: "needs a value: --\(name) \(option?.value ?? "FILE")")
                }
                value = arguments[index]
                index += 1
            }
            if let option { flags.settings.append((option, value!)) } else { flags.configPath = value! }
        }
        return flags
    }

    /// The config file to read for these arguments and environment (the flag wins), if any.
    public static func configPath(_ arguments: [String], environment: [String: String]) throws(ConfigError) -> String? {
        try scan(arguments, options: options).configPath ?? environment[configVariable].flatMap { $0.isEmpty ? nil : $0 }
    }

    /// Applies, in order of precedence, the config file, the environment and the flags, then
    /// validates the result. `configFile` is the file `configPath` names, already read; the
    /// caller reads it so that this stays pure.
    public static func parse(_ arguments: [String], environment: [String: String],
                             configFile: ConfigFile? = nil) throws(ConfigError) -> ServerOptions {
        try parse(arguments, environment: environment, configFile: configFile, options: options)
    }

    static func parse(_ arguments: [String], environment: [String: String], configFile: ConfigFile?,
                      options: [Option]) throws(ConfigError) -> ServerOptions {
        let flags = try scan(arguments, options: options)
        var parsed = ServerOptions()
        parsed.showHelp = flags.showHelp
        parsed.configPath = flags.configPath ?? environment[configVariable].flatMap { $0.isEmpty ? nil : $0 }
        // Which source set each option last, so a validation error can say where to look.
        var sources: [String: ConfigError.Source] = [:]
        func apply(_ option: Option, _ value: String, _ source: ConfigError.Source) throws(ConfigError) {
            do { try option.apply(&parsed, value, option.name) } catch { throw error.from(source) }
            sources[option.name] = source
        }
        if let configFile {
            for setting in try configFile.settings(for: options) {
                try apply(setting.option, setting.value, .file(path: configFile.path, key: setting.option.fileKey, at: setting.position))
            }
        }
        for option in options {
            if let value = environment[option.environment] { try apply(option, value, .environment(variable: option.environment)) }
        }
        for (option, value) in flags.settings { try apply(option, value, .flag) }
        if !parsed.showHelp {
            do { parsed.config = try parsed.config.validated() } catch { throw error.from(sources[error.option]) }
        }
        return parsed
    }

    /// This process's environment (`environ`), what `load` takes in `main`.
    public static var processEnvironment: [String: String] { Sys.environment() }

    /// `parse` with the config file read from disk (unless only help was asked for).
    public static func load(_ arguments: [String], environment: [String: String]) throws(ConfigError) -> ServerOptions {
        let flags = try scan(arguments, options: options)
        guard !flags.showHelp, let path = try configPath(arguments, environment: environment) else {
            return try parse(arguments, environment: environment)
        }
        let file: ConfigFile
        do { file = try ConfigFile(readingPath: path) } catch {
            throw error.from(flags.configPath == nil ? .environment(variable: configVariable) : .flag)
        }
        return try parse(arguments, environment: environment, configFile: file)
    }

    public static var helpText: String {
        var text = """
            broker-server: a WebSocket pub/sub broker.

            Usage: broker-server [options]

            Serves ws://HOST:PORT/bus (pub/sub, see Protocol.md), ws://HOST:PORT/echo (echo),
            POST /publish/TOPIC, the browser console at GET /, and GET /healthz, /readyz and
            /metrics (Prometheus).

            Every option can be a flag, an environment variable (in brackets) or a key of a JSON
            config file ({"port": 9000, "host": ["127.0.0.1", "::1"]}). A flag wins over the
            environment, which wins over the config file, which wins over the default.

            Options:

            """
        func line(_ flag: String, _ help: String) {
            text += flag + String(repeating: " ", count: max(1, 34 - flag.count)) + help + "\n"
        }
        line("  --\(configFlag) FILE", "read options from a JSON config file  [\(configVariable); default: none]")
        for option in options {
            line("  --\(option.name) \(option.value)", "\(option.help)  [\(option.environment); default: \(option.defaultValue)]")
        }
        line("  --help", "this text")
        line("  --version", "print the version and exit")
        return text
    }
}
