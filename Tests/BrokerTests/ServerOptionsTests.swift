import Testing
@testable import Broker

@Suite struct ServerOptionsTests {
    @Test func defaultsNeedNoArguments() throws {
        let options = try ServerOptions.parse([], environment: [:])
        #expect(options.config.hosts == ["127.0.0.1"])
        #expect(options.config.port == 8080)
        #expect(options.config.maxMessageSize == 1 << 20)
        #expect(options.config.effectiveSendQueueBytes == 4 << 20)
    }

    @Test(arguments: [(1, 1), (2, 1), (3, 2), (4, 3), (64, 63), (0, 1)])
    func automaticLoopsLeaveOneCPUButKeepAtLeastOne(cpus: Int, loops: Int) {
        #expect(ServerConfig.automaticLoops(cpus: cpus) == loops)
    }

    @Test func flagsBeatEnvironmentWhichBeatsDefaults() throws {
        let options = try ServerOptions.parse(["--port", "9001"], environment: ["BUS_PORT": "9000", "BUS_LOOPS": "3"])
        #expect(options.config.port == 9001)
        #expect(options.config.loops == 3)
        let equals = try ServerOptions.parse(["--max-message-size=16777216"], environment: [:])
        #expect(equals.config.maxMessageSize == 16 << 20)
        #expect(equals.config.effectiveSendQueueBytes >= 2 * (16 << 20))
    }

    @Test(arguments: [
        (["--port", "x"], "port"),
        (["--port", "70000"], "port"),
        (["--bogus", "1"], "bogus"),
        (["--port"], "port"),
        (["--max-message-size", "10"], "max-message-size"),
        (["--send-queue-bytes", "1000"], "send-queue-bytes"),
        (["--idle-timeout", "0"], "idle-timeout"),
        (["--log-level", "loud"], "log-level"),
        // Issue 13: a huge duration trapped converting to nanoseconds; a huge per-pattern
        // history age passed validation and trapped when the loops started.
        (["--flush-delay", "1e300s"], "flush-delay"),
        (["--flush-delay", "1e10s"], "flush-delay"),
        (["--history", "a=1:1e300"], "history"),
        (["--history", "a=1:inf"], "history"),
        (["--history", "a=1:604801"], "history"),
    ])
    func badOptionsNameTheOption(arguments: [String], option: String) {
        #expect(throws: ConfigError.self) { try ServerOptions.parse(arguments, environment: [:]) }
        do { _ = try ServerOptions.parse(arguments, environment: [:]) } catch { #expect(error.option == option) }
    }

    /// Issue 19: `--port 99999` said "not a valid whole number"; a number too big for the
    /// option is out of range, and the message gives the range.
    @Test(arguments: [("99999", "'99999' is out of range: 0 to 65535"), ("-1", "'-1' is out of range: 0 to 65535"),
                      ("80x", "'80x' is not a valid whole number"), ("--", "'--' is not a valid whole number")])
    func aPortOutOfRangeSaysSo(text: String, message: String) {
        do { _ = try ServerOptions.parse(["--port", text], environment: [:]); Issue.record("accepted \(text)") } catch {
            #expect(error.option == "port")
            #expect(error.message == message, "\(error.message)")
        }
    }

    /// What `--help` must say, written out here rather than read from `ServerOptions.options`
    /// (which generates the help): a row renamed, dropped or given a wrong default there
    /// fails this list. The defaults are `ServerConfig()`'s, or a description where derived.
    static let expectedHelp: [(flag: String, variable: String, defaultValue: String)] = [
        ("--host ADDR[,ADDR]", "BUS_HOST", "127.0.0.1"),
        ("--port PORT", "BUS_PORT", "8080"),
        ("--loops N", "BUS_LOOPS", "0"),
        ("--max-message-size BYTES", "BUS_MAX_MESSAGE_SIZE", "1048576"),
        ("--max-handshake-size BYTES", "BUS_MAX_HANDSHAKE_SIZE", "8192"),
        ("--handshake-timeout SECONDS", "BUS_HANDSHAKE_TIMEOUT", "10"),
        ("--ping-interval SECONDS", "BUS_PING_INTERVAL", "25"),
        ("--idle-timeout SECONDS", "BUS_IDLE_TIMEOUT", "60"),
        ("--sse-heartbeat SECONDS", "BUS_SSE_HEARTBEAT", "15"),
        ("--close-timeout SECONDS", "BUS_CLOSE_TIMEOUT", "5"),
        ("--slow-consumer-grace SECONDS", "BUS_SLOW_CONSUMER_GRACE", "30"),
        ("--send-queue-messages N", "BUS_SEND_QUEUE_MESSAGES", "256"),
        ("--send-queue-bytes BYTES", "BUS_SEND_QUEUE_BYTES", "max(4194304, 2 x max message)"),
        ("--socket-send-buffer BYTES", "BUS_SOCKET_SEND_BUFFER", "kernel autotuning"),
        ("--flush-delay DURATION", "BUS_FLUSH_DELAY", "0"),
        ("--io-uring on|off", "BUS_IO_URING", "on"),
        ("--compression on|off", "BUS_COMPRESSION", "on"),
        ("--compression-min-bytes BYTES", "BUS_COMPRESSION_MIN_BYTES", "512"),
        ("--compression-exclude PATTERN[,PATTERN]", "BUS_COMPRESSION_EXCLUDE", "none"),
        ("--max-connections N", "BUS_MAX_CONNECTIONS", "file limit - 64"),
        ("--max-subscriptions N", "BUS_MAX_SUBSCRIPTIONS", "1000"),
        ("--max-topic-length BYTES", "BUS_MAX_TOPIC_LENGTH", "256"),
        ("--max-topic-depth N", "BUS_MAX_TOPIC_DEPTH", "16"),
        ("--max-topics N", "BUS_MAX_TOPICS", "100000"),
        ("--allowed-origin ORIGIN[,ORIGIN]", "BUS_ALLOWED_ORIGIN", "same host only"),
        ("--publish-rate PER_SECOND", "BUS_PUBLISH_RATE", "1000000"),
        ("--publish-burst N", "BUS_PUBLISH_BURST", "1000000"),
        ("--subscribe-rate PER_SECOND", "BUS_SUBSCRIBE_RATE", "1000"),
        ("--subscribe-burst N", "BUS_SUBSCRIBE_BURST", "2000"),
        ("--trusted-proxy ADDR[/BITS][,...]", "BUS_TRUSTED_PROXY", "none"),
        ("--max-connections-per-ip N", "BUS_MAX_CONNECTIONS_PER_IP", "0"),
        ("--connection-rate-per-ip PER_SECOND", "BUS_CONNECTION_RATE_PER_IP", "0"),
        ("--max-reassembly-bytes BYTES", "BUS_MAX_REASSEMBLY_BYTES", "536870912"),
        ("--max-queued-bytes BYTES", "BUS_MAX_QUEUED_BYTES", "1073741824"),
        ("--history-messages N", "BUS_HISTORY_MESSAGES", "100"),
        ("--history-age SECONDS", "BUS_HISTORY_AGE", "120"),
        ("--history-bytes BYTES", "BUS_HISTORY_BYTES", "67108864"),
        ("--history PATTERN=N[:SECONDS],...", "BUS_HISTORY", "none"),
        ("--data-dir DIR", "BUS_DATA_DIR", "none (history in memory only)"),
        ("--durability none|write|fsync", "BUS_DURABILITY", "write"),
        ("--nats nats://HOST:PORT", "BUS_NATS", "none (run alone)"),
        ("--node-name NAME", "BUS_NODE_NAME", "bus-HOSTNAME-PID"),
        ("--auth-jwt-secret SECRET", "BUS_AUTH_JWT_SECRET", "none"),
        ("--auth-jwt-secret-file FILE", "BUS_AUTH_JWT_SECRET_FILE", "none"),
        ("--auth-tokens JSON", "BUS_AUTH_TOKENS", "none"),
        ("--auth-leeway SECONDS", "BUS_AUTH_LEEWAY", "5"),
        ("--log-level LEVEL", "BUS_LOG_LEVEL", "info"),
        ("--log-format FORMAT", "BUS_LOG_FORMAT", "logfmt"),
    ]

    @Test func helpListsEveryOptionWithItsVariableAndDefault() throws {
        let pattern = /^  (--\S+(?: \S+)?)\s.*\[(BUS_\w+); default: (.*)\]$/
        let listed = ServerOptions.helpText.split(separator: "\n").compactMap { line in
            line.wholeMatch(of: pattern).map { (String($0.1), String($0.2), String($0.3)) }
        }
        #expect(listed.first.map { [$0.0, $0.1, $0.2] } == ["--config FILE", "BUS_CONFIG", "none"])
        let options = Array(listed.dropFirst())
        #expect(options.count == Self.expectedHelp.count)
        for (shown, expected) in zip(options, Self.expectedHelp) {
            #expect([shown.0, shown.1, shown.2] == [expected.flag, expected.variable, expected.defaultValue])
        }
        #expect(ServerOptions.helpText.contains("  --help"))
    }

    /// README's configuration table is the reference users read: it names every option and
    /// its variable, so it cannot fall behind `--help`.
    @Test func readmeDocumentsEveryOption() throws {
        let readme = try String(contentsOfFile: ExternalTool.packageFile("README.md"), encoding: .utf8)
        for option in ServerOptions.options {
            #expect(readme.contains("`--\(option.name)"), "README lacks --\(option.name)")
            #expect(readme.contains(option.environment), "README lacks \(option.environment)")
        }
    }

    @Test func dataDirAndDurabilityParseFromEverySource() throws {
        let file = Self.file(#"{"data-dir": "/var/lib/bus", "durability": "fsync"}"#)
        let fromFile = try ServerOptions.parse([], environment: [:], configFile: file)
        #expect(fromFile.config.dataDir == "/var/lib/bus" && fromFile.config.durability == .fsync)
        let fromFlags = try ServerOptions.parse(["--data-dir", "/tmp/b", "--durability", "none"], environment: ["BUS_DURABILITY": "fsync"])
        #expect(fromFlags.config.dataDir == "/tmp/b" && fromFlags.config.durability == Durability.none)
        #expect(try ServerOptions.parse([], environment: [:]).config.dataDir == nil)
        #expect(throws: ConfigError.self) { try ServerOptions.parse(["--durability", "sometimes"], environment: [:]) }
    }

    // MARK: config file

    static func file(_ json: String, path: String = "bus.json") -> ConfigFile {
        ConfigFile(path: path, contents: Array(json.utf8))
    }

    @Test func configFileSetsOptionsByTheirFlagNames() throws {
        let file = Self.file(#"{"port": 9000, "max-message-size": 2097152, "host": ["127.0.0.1", "::1"], "idle-timeout": 7.5, "log-level": "debug", "loops": 2.0}"#)
        let options = try ServerOptions.parse([], environment: [:], configFile: file)
        #expect(options.config.port == 9000)
        #expect(options.config.maxMessageSize == 2 << 20)
        #expect(options.config.hosts == ["127.0.0.1", "::1"])
        #expect(options.config.idleTimeout == 7.5)
        #expect(options.config.loops == 2)
        #expect(options.log.level == .debug)
    }

    @Test func flagsBeatEnvironmentWhichBeatsConfigFileWhichBeatsDefaults() throws {
        let file = Self.file(#"{"port": 9000, "loops": 3, "max-topics": 50, "host": "::1"}"#)
        let environment = ["BUS_PORT": "9001", "BUS_LOOPS": "4"]
        let options = try ServerOptions.parse(["--port", "9002"], environment: environment, configFile: file)
        #expect(options.config.port == 9002)        // flag
        #expect(options.config.loops == 4)          // environment over file
        #expect(options.config.maxTopics == 50)     // file over default
        #expect(options.config.hosts == ["::1"])
        #expect(options.config.maxSubscriptions == 1000)  // default
    }

    @Test func configPathComesFromTheFlagThenTheEnvironment() throws {
        #expect(try ServerOptions.configPath([], environment: [:]) == nil)
        #expect(try ServerOptions.configPath([], environment: ["BUS_CONFIG": "/etc/bus.json"]) == "/etc/bus.json")
        #expect(try ServerOptions.configPath(["--config", "a.json"], environment: ["BUS_CONFIG": "b.json"]) == "a.json")
        #expect(try ServerOptions.configPath(["--config=c.json"], environment: [:]) == "c.json")
        let options = try ServerOptions.parse(["--config", "a.json"], environment: [:])
        #expect(options.configPath == "a.json")
    }

    @Test(arguments: [
        (#"{"prot": 9000}"#, "prot", "bus.json: line 1, column 2: prot: unknown option"),
        (#"{"port": "9000"}"#, "port", "bus.json: line 1, column 10: port: must be a whole number"),
        (#"{"port": 70000}"#, "port", "bus.json: line 1, column 10: port: '70000' is out of range: 0 to 65535"),
        (#"{"port": true}"#, "port", "bus.json: line 1, column 10: port: must be a whole number"),
        (#"{"loops": 1.5}"#, "loops", "bus.json: line 1, column 11: loops: '1.5' is not a valid whole number"),
        (#"{"idle-timeout": 0}"#, "idle-timeout", "bus.json: line 1, column 18: idle-timeout: must be a number of seconds above 0 and at most 86400"),
        (#"{"host": [1]}"#, "host", "bus.json: line 1, column 11: host: must be a string or an array of strings"),
        (#"{"host": "localhost"}"#, "host", "bus.json: line 1, column 10: host: 'localhost' is not a numeric IPv4 or IPv6 address"),
        (#"{"log-level": 3}"#, "log-level", "bus.json: line 1, column 15: log-level: must be a string"),
        (#"{"max-message-size": 1048576, "send-queue-bytes": 1000}"#, "send-queue-bytes",
         "bus.json: line 1, column 51: send-queue-bytes: must hold two maximum-size messages: at least 2097180"),
        (#"{"config": "other.json"}"#, "config", "bus.json: line 1, column 2: config: a config file cannot name another"),
        (#"{"port": 9000"#, "config", "bus.json: line 1, column 14: the file ends too early: expected ',' or '}' after the member"),
        ("{\n  \"port\": 9000,\n  \"loops\": ,\n}", "config", "bus.json: line 3, column 12: expected a value (object, array, string, number, true, false or null), found ','"),
        (#"[1, 2]"#, "config", "bus.json: line 1, column 1: expected one JSON object ('{'), found '['"),
    ])
    func badConfigFileValuesNameTheFileAndTheOption(json: String, option: String, line: String) {
        do {
            _ = try ServerOptions.parse([], environment: [:], configFile: Self.file(json))
            Issue.record("accepted \(json)")
        } catch {
            #expect(error.option == option)
            #expect(error.description == line)
        }
    }

    @Test func errorsSayWhichSourceSetTheValue() {
        func line(_ arguments: [String], _ environment: [String: String]) -> String? {
            do { _ = try ServerOptions.parse(arguments, environment: environment); return nil } catch { return error.description }
        }
        #expect(line(["--port", "x"], [:]) == "--port: 'x' is not a valid whole number")
        #expect(line([], ["BUS_PORT": "x"]) == "BUS_PORT: 'x' is not a valid whole number")
        // A rule between options blames the source of the offending option.
        #expect(line([], ["BUS_SEND_QUEUE_BYTES": "10"])?.hasPrefix("BUS_SEND_QUEUE_BYTES: must hold") == true)
    }

    /// Sections are where grouped options go (an `auth` section is planned): the key nests
    /// in the file, and the flag and variable join section and key.
    @Test func sectionedOptionsNestInTheFileAndJoinInTheFlag() throws {
        let secret = ServerOptions.Option("secret", in: "demo", .text, "TEXT", default: "none", "a test option") { o, v, _ throws(ConfigError) in
            o.config.hosts = [v]
        }
        #expect(secret.name == "demo-secret")
        #expect(secret.environment == "BUS_DEMO_SECRET")
        let options = ServerOptions.options + [secret]
        let fromFile = try ServerOptions.parse([], environment: [:], configFile: Self.file(#"{"demo": {"secret": "::1"}}"#),
                                               options: options)
        #expect(fromFile.config.hosts == ["::1"])
        let fromFlag = try ServerOptions.parse(["--demo-secret", "127.0.0.2"], environment: [:], configFile: nil, options: options)
        #expect(fromFlag.config.hosts == ["127.0.0.2"])
        do {
            _ = try ServerOptions.parse([], environment: [:], configFile: Self.file(#"{"demo": {"secrte": "x"}}"#), options: options)
            Issue.record("accepted an unknown key in a section")
        } catch {
            #expect(error.description == "bus.json: line 1, column 11: demo.secrte: unknown option")
        }
        do {
            _ = try ServerOptions.parse([], environment: [:], configFile: Self.file(#"{"demo": "x"}"#), options: options)
            Issue.record("accepted a section that is not an object")
        } catch {
            #expect(error.description == "bus.json: line 1, column 10: demo: must be an object")
        }
    }

    @Test func helpSkipsTheConfigFile() throws {
        let options = try ServerOptions.load(["--help", "--config", "/nonexistent/bus.json"], environment: [:])
        #expect(options.showHelp)
        do {
            _ = try ServerOptions.load(["--config", "/nonexistent/bus.json"], environment: [:])
            Issue.record("a missing config file was accepted")
        } catch {
            #expect(error.description == "--config: '/nonexistent/bus.json' does not exist")
        }
    }
}
