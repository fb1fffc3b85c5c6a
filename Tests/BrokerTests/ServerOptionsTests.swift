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

    @Test func helpListsEveryOptionWithItsVariableAndDefault() {
        for option in ServerOptions.options {
            #expect(ServerOptions.helpText.contains("--\(option.name) \(option.value)"))
            #expect(ServerOptions.helpText.contains("[\(option.environment); default: \(option.defaultValue)]"))
            #expect(!option.defaultValue.isEmpty)
        }
        #expect(ServerOptions.helpText.contains("--config FILE"))
        #expect(ServerOptions.helpText.contains("BUS_CONFIG"))
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
        (#"{"prot": 9000}"#, "prot", "bus.json: prot: unknown option"),
        (#"{"port": "9000"}"#, "port", "bus.json: port: must be a whole number"),
        (#"{"port": 70000}"#, "port", "bus.json: port: '70000' is not a valid whole number"),
        (#"{"port": true}"#, "port", "bus.json: port: must be a whole number"),
        (#"{"loops": 1.5}"#, "loops", "bus.json: loops: '1.5' is not a valid whole number"),
        (#"{"idle-timeout": 0}"#, "idle-timeout", "bus.json: idle-timeout: must be a number of seconds above 0 and at most 86400"),
        (#"{"host": [1]}"#, "host", "bus.json: host: must be a string or an array of strings"),
        (#"{"host": "localhost"}"#, "host", "bus.json: host: 'localhost' is not a numeric IPv4 or IPv6 address"),
        (#"{"log-level": 3}"#, "log-level", "bus.json: log-level: must be a string"),
        (#"{"max-message-size": 1048576, "send-queue-bytes": 1000}"#, "send-queue-bytes",
         "bus.json: send-queue-bytes: must hold two maximum-size messages: at least 2097180"),
        (#"{"config": "other.json"}"#, "config", "bus.json: config: a config file cannot name another"),
        (#"{"port": 9000"#, "config", "bus.json: is not valid JSON"),
        (#"[1, 2]"#, "config", "bus.json: must hold one JSON object"),
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
            #expect(error.description == "bus.json: demo.secrte: unknown option")
        }
        do {
            _ = try ServerOptions.parse([], environment: [:], configFile: Self.file(#"{"demo": "x"}"#), options: options)
            Issue.record("accepted a section that is not an object")
        } catch {
            #expect(error.description == "bus.json: demo: must be an object")
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
