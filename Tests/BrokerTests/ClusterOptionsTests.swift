import Testing
@testable import Broker

/// `--nats` and `--node-name`: validated before anything listens; absent means a lone node.
@Suite struct ClusterOptionsTests {
    @Test func withoutNATSTheNodeRunsAlone() throws {
        let options = try ServerOptions.parse([], environment: [:])
        #expect(options.config.nats == nil)
        #expect(ServerContext(config: options.config, log: .silent, fileLimit: 1024, loopCount: 1).backplane == nil)
    }

    @Test func natsURLAndNodeNameFromFlagsOrEnvironment() throws {
        let options = try ServerOptions.parse(["--nats", "nats://10.0.0.5:4223"], environment: ["BUS_NODE_NAME": "edge-1"])
        #expect(options.config.nats?.host == "10.0.0.5" && options.config.nats?.port == 4223)
        #expect(options.config.effectiveNodeName == "edge-1")
        let context = ServerContext(config: options.config, log: .silent, fileLimit: 1024, loopCount: 1)
        #expect(context.backplane?.healthJSON.contains(#""node":"edge-1","connected":false"#) == true)
    }

    @Test func defaultNodeNameNamesHostAndProcess() throws {
        let options = try ServerOptions.parse(["--nats", "nats://127.0.0.1"], environment: [:])
        #expect(options.config.effectiveNodeName.hasPrefix("bus-"))
        #expect(options.config.effectiveNodeName.hasSuffix("-\(Sys.processID())"))
    }

    @Test(arguments: [
        (["--nats", "127.0.0.1:4222"], "nats"),
        (["--nats", "nats://h:99999"], "nats"),
        (["--nats", "nats://a:b@h"], "nats"),
        (["--node-name", "has space"], "node-name"),
        (["--node-name", String(repeating: "n", count: 65)], "node-name"),
    ])
    func badValuesNameTheOption(arguments: [String], option: String) {
        do {
            _ = try ServerOptions.parse(arguments, environment: [:])
            Issue.record("\(arguments) accepted")
        } catch { #expect(error.option == option) }
    }
}
