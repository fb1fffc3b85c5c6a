import BusProtocol
import Foundation
import Testing
@testable import Broker

/// `/healthz`, `/readyz` and `/metrics`: what an operator and a Prometheus server read.
@Suite(.serialized) struct ObservabilityTests {
    @Test func healthzReportsConnectionsLoopsAndBackplane() throws {
        let server = try LiveServer()
        defer { server.stop() }
        let client = try BusClient(port: server.port)
        let reply = try HTTPResult(port: server.port, "/healthz")
        #expect(reply.status == 200)
        #expect(reply.header("Content-Type") == "application/json")
        // The bus client and this request itself.
        #expect(reply.body == "{\"status\":\"ok\",\"connections\":2,\"loops\":2,\"backplane\":\"none\"}\n")
        client.close()
    }

    @Test func readyzIsReadyOnceStartedAnd503WhileDraining() throws {
        let server = try LiveServer()
        defer { server.stop() }
        let ready = try HTTPResult(port: server.port, "/readyz")
        #expect(ready.status == 200)
        #expect(ready.body == "{\"status\":\"ready\"}\n")
        server.server.beginDraining()
        let draining = try HTTPResult(port: server.port, "/readyz")
        #expect(draining.status == 503)
        #expect(draining.body == "{\"status\":\"draining\"}\n")
    }

    /// Regression: HEAD used to get the body too, which a keep-alive client reads as the start
    /// of the next response.
    @Test func headGetsTheHeadersWithoutTheBody() throws {
        let server = try LiveServer()
        defer { server.stop() }
        let raw = try RawSocket(port: server.port)
        raw.send("HEAD /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\nGET /readyz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        let text = String(decoding: raw.read(timeout: 5) { String(decoding: $0, as: UTF8.self).contains("ready\"}") }.bytes, as: UTF8.self)
        let parts = text.components(separatedBy: "\r\n\r\n")
        #expect(parts.count == 3)
        #expect(parts[0].hasPrefix("HTTP/1.1 200"))
        #expect(parts[0].contains("Content-Length: "))
        #expect(parts[1].hasPrefix("HTTP/1.1 200"), "the GET's reply follows the HEAD's head directly")
        #expect(parts[2] == "{\"status\":\"ready\"}\n")
    }

    @Test func metricsCountTrafficAcrossLoops() throws {
        let server = try LiveServer()  // two loops: topics are owned by either
        defer { server.stop() }
        let subscriber = try BusClient(port: server.port)
        try subscriber.subscribe("metrics.>")
        let publisher = try BusClient(port: server.port)
        let topics = (0..<6).map { "metrics.t\($0)" }
        for topic in topics { try publisher.publish(topic, json: "{\"n\":1}") }
        try publisher.publish(topics[0], binary: [1, 2, 3])
        for _ in 0..<(topics.count + 1) {
            guard case .message = try subscriber.next() else { Issue.record("expected a message"); return }
        }
        let metrics = try HTTPResult(port: server.port, "/metrics")
        #expect(metrics.status == 200)
        #expect(metrics.header("Content-Type") == "text/plain; version=0.0.4; charset=utf-8")
        #expect(metrics.sample("bus_loops") == 2)
        #expect(metrics.sample("bus_connections") == 3)
        #expect(metrics.sample("bus_subscriptions") == 1)
        #expect(metrics.sample("bus_topics") == 6)
        #expect(metrics.sample("bus_messages_published_total{kind=\"json\"}") == 6)
        #expect(metrics.sample("bus_messages_published_total{kind=\"binary\"}") == 1)
        #expect(metrics.sample("bus_published_bytes_total{kind=\"json\"}") == 42)  // {"n":1} six times
        #expect(metrics.sample("bus_published_bytes_total{kind=\"binary\"}") == 3)
        #expect(metrics.sample("bus_messages_delivered_total{kind=\"json\"}") == 6)
        #expect(metrics.sample("bus_messages_delivered_total{kind=\"binary\"}") == 1)
        #expect((metrics.sample("bus_delivered_bytes_total{kind=\"json\"}") ?? 0) > 6 * 7)
        #expect(metrics.sample("bus_slow_consumer_drops_total") == 0)
        #expect(metrics.sample("bus_auth_failures_total") == 0)
        // Every delivery was written in some batch; at least one batch was timed.
        let timed = metrics.sample("bus_delivery_latency_seconds_count") ?? 0
        #expect(timed >= 1 && timed <= 7)
        #expect(metrics.sample("bus_delivery_latency_seconds_bucket{le=\"+Inf\"}") == timed)
        #expect((metrics.sample("bus_send_queue_depth_messages_count") ?? 0) >= 1)
        for loop in 0..<2 {
            #expect((metrics.sample("bus_loop_iterations_total{loop=\"\(loop)\"}") ?? 0) > 0)
            #expect((metrics.sample("bus_loop_turn_seconds_count{loop=\"\(loop)\"}") ?? 0) > 0)
        }
        subscriber.close()
        publisher.close()
    }

    @Test func metricsAnswersEveryPipelinedScrapeInOrder() throws {
        let server = try LiveServer()
        defer { server.stop() }
        let raw = try RawSocket(port: server.port)
        raw.send("GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\nGET /readyz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\nGET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        let replies = HTTPPublishTests.responses(raw, count: 3)
        #expect(replies.count == 3)
        #expect(replies.count == 3 && replies[0].contains("# TYPE bus_loops gauge"))
        #expect(replies.count == 3 && replies[1].hasSuffix("{\"status\":\"ready\"}\n"))
        #expect(replies.count == 3 && replies[2].contains("bus_connections 1\n"))
    }

    @Test func expositionAddsLoopsUpAndKeepsLoopLabels() {
        var first = LoopMetrics()
        first.published.json = 2
        first.deliveryNanos.observe(25_000)       // ≤ first bound
        first.deliveryNanos.observe(30_000)       // next bucket
        first.iterations = 10
        var second = LoopMetrics()
        second.published.json = 3
        second.deliveryNanos.observe(20_000_000_000)  // beyond the last bound: +Inf only
        second.iterations = 20
        let text = MetricsExposition.render([
            LoopSnapshot(loop: 1, metrics: second, connections: 4, subscriptions: 1, topics: 2, queuedBytes: 10, reassemblyBytes: 0),
            LoopSnapshot(loop: 0, metrics: first, connections: 1, subscriptions: 2, topics: 3, queuedBytes: 5, reassemblyBytes: 7),
        ])
        let lines = Set(text.split(separator: "\n").map(String.init))
        for expected in [
            "# TYPE bus_connections gauge", "bus_connections 5", "bus_subscriptions 3", "bus_topics 5",
            "bus_send_queue_bytes 15", "bus_reassembly_bytes 7",
            "bus_messages_published_total{kind=\"json\"} 5",
            "bus_delivery_latency_seconds_bucket{le=\"0.000025\"} 1",
            "bus_delivery_latency_seconds_bucket{le=\"0.00005\"} 2",
            "bus_delivery_latency_seconds_bucket{le=\"10\"} 2",
            "bus_delivery_latency_seconds_bucket{le=\"+Inf\"} 3",
            "bus_delivery_latency_seconds_sum 20.000055",
            "bus_delivery_latency_seconds_count 3",
            "bus_loop_iterations_total{loop=\"0\"} 10", "bus_loop_iterations_total{loop=\"1\"} 20",
            "bus_loop_turn_seconds_count{loop=\"0\"} 0",
        ] {
            #expect(lines.contains(expected), "missing: \(expected)")
        }
        // Loops in order, whatever order their snapshots came in.
        let loop0 = text.range(of: "bus_loop_iterations_total{loop=\"0\"}")!.lowerBound
        let loop1 = text.range(of: "bus_loop_iterations_total{loop=\"1\"}")!.lowerBound
        #expect(loop0 < loop1)
    }

    @Test(arguments: [(UInt64(0), "0"), (25_000, "0.000025"), (1_500_000_000, "1.5"), (2_000_000_000, "2"), (1, "0.000000001")])
    func secondsAreExactDecimals(nanos: UInt64, text: String) {
        #expect(MetricsExposition.seconds(nanos) == text)
    }

    /// The real parser Prometheus' Python client uses, against a live server's exposition; the
    /// script also makes traffic and checks the counters move.
    @Test func prometheusClientParsesTheExposition() throws {
        try ExternalTool.requirePython(["prometheus_client", "websockets"])
        let server = try LiveServer()
        defer { server.stop() }
        let script = ExternalTool.packageFile("Tests/Scripts/check_metrics.py")
        let result = ExternalTool.run("python3", [script, "http://127.0.0.1:\(server.port)"], timeout: 60)
        #expect(result.status == 0, "\(result.output)")
        #expect(result.output.contains(" passed, 0 failed"), "\(result.output)")
    }
}
