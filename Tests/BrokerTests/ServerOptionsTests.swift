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
    ])
    func badOptionsNameTheOption(arguments: [String], option: String) {
        #expect(throws: ConfigError.self) { try ServerOptions.parse(arguments, environment: [:]) }
        do { _ = try ServerOptions.parse(arguments, environment: [:]) } catch { #expect(error.option == option) }
    }

    @Test func helpListsEveryOptionWithItsVariable() {
        for option in ServerOptions.options {
            #expect(ServerOptions.helpText.contains("--\(option.name)"))
            #expect(ServerOptions.helpText.contains(option.environment))
        }
    }
}
