import Broker
import BusClient
import Foundation
import Synchronization
import Testing

/// Issue 16: a thousand clients of one server that restarts (gracefully, history on disk)
/// come back spread over the jitter window, not all at once, and none loses a message.
@Suite(.serialized) struct ReconnectStormTests {
    final class Comebacks: Sendable {
        let restartedAt = Mutex<ContinuousClock.Instant?>(nil)
        let seconds = Mutex<[Double]>([])
    }

    @Test func aThousandClientsComeBackSpreadOutAndLoseNothing() async throws {
        let clients = 1000
        let dir = NSTemporaryDirectory() + "bus-storm-\(UInt64.random(in: 0 ... .max))"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var server = try TestServer { $0.dataDir = dir }
        let port = server.port
        let url = "ws://127.0.0.1:\(port)/bus"
        var buses: [BusClient] = []
        var subscriptions: [Subscription] = []
        for _ in 0..<clients {
            let bus = try BusClient(url: url)
            buses.append(bus)
            subscriptions.append(try await bus.subscribe("storm.>"))
        }
        defer { buses.forEach { $0.close() } }
        let before = try BusClient(url: url)
        for n in 1...3 { try await before.publish("storm.t\(n % 2)", json: String(n)) }
        before.close()

        // Every client notes when it is connected again after the restart.
        let comebacks = Comebacks()
        let watchers = buses.map { bus in
            Task {
                var wasDown = false
                for await state in bus.stateChanges() {
                    if case .reconnecting = state { wasDown = true }
                    if state == .connected && wasDown, let start = comebacks.restartedAt.withLock({ $0 }) {
                        let elapsed = ContinuousClock.now - start
                        comebacks.seconds.withLock { $0.append(Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18) }
                        return
                    }
                }
            }
        }
        try await Task.sleep(for: .milliseconds(300))
        comebacks.restartedAt.withLock { $0 = .now }
        server.stop()
        server = try TestServer { $0.dataDir = dir; $0.port = port }
        defer { server.stop() }
        let after = try BusClient(url: url)
        for n in 4...6 { try await after.publish("storm.t\(n % 2)", json: String(n)) }
        after.close()

        // Everyone gets all six, in order per topic, with no gap (history on disk).
        try await withThrowingTaskGroup(of: Bool.self) { group in
            for subscription in subscriptions {
                group.addTask {
                    let events = try await collect(subscription, messages: 6, timeout: 60)
                    let received = messages(events)
                    let inOrder = ["storm.t0", "storm.t1"].allSatisfy { topic in
                        let seqs = received.filter { $0.topic == topic }.map(\.seq)
                        return seqs == Array(1...UInt64(seqs.count))
                    }
                    return received.count == 6 && inOrder && events.count == 6
                }
            }
            var complete = 0
            for try await ok in group where ok { complete += 1 }
            #expect(complete == clients, "\(clients - complete) clients lost or repeated messages, or saw a gap")
        }
        for watcher in watchers { _ = await watcher.value }
        let times = comebacks.seconds.withLock { $0 }.sorted()
        #expect(times.count == clients)
        guard times.count == clients else { return }
        let percentile = { (p: Double) in times[min(times.count - 1, Int(Double(times.count) * p))] }
        print(String(format: "reconnect storm: %d clients back after %.2f s (p10) %.2f (p50) %.2f (p90) %.2f (max)",
                     clients, percentile(0.1), percentile(0.5), percentile(0.9), times.last!))
        // Spread over the first jitter window (2 s), not a burst.
        #expect(percentile(0.9) - percentile(0.1) > 0.8, "p10 \(percentile(0.1)) p90 \(percentile(0.9))")
        #expect(times.last! < 10)
    }
}
