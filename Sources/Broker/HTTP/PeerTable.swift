import Synchronization

/// Per client address: open connections and a token bucket of new connections, shared by all
/// loops (a client's connections land on any loop). Consulted only when a per-address limit
/// is configured, so the default path takes no lock.
final class PeerTable: Sendable {
    private struct Entry {
        var connections = 0
        var bucket: TokenBucket
    }

    private let entries = Mutex<[String: Entry]>([:])
    let maxConnections: Int
    let rate: Double

    init(maxConnections: Int, rate: Double) {
        self.maxConnections = maxConnections
        self.rate = rate
    }

    var isActive: Bool { maxConnections > 0 || rate > 0 }

    /// Counts a new connection from `address`; false (and nothing counted) when over a limit.
    func admit(_ address: String, now: UInt64) -> Bool {
        entries.withLock { table in
            var entry = table[address] ?? Entry(bucket: TokenBucket(rate: rate, burst: max(1, rate), now: now))
            if maxConnections > 0 && entry.connections >= maxConnections { return false }
            if !entry.bucket.take(now: now) {
                table[address] = entry
                return false
            }
            entry.connections += 1
            table[address] = entry
            if table.count > 4096 { Self.prune(&table, now: now) }
            return true
        }
    }

    func release(_ address: String) {
        entries.withLock { table in
            guard var entry = table[address] else { return }
            entry.connections -= 1
            if entry.connections <= 0 && rate <= 0 { table[address] = nil } else { table[address] = entry }
        }
    }

    /// Forgets addresses with no connections (their buckets refill within a second anyway),
    /// so the table stays as large as the set of connected clients.
    private static func prune(_ table: inout [String: Entry], now: UInt64) {
        table = table.filter { $0.value.connections > 0 }
    }
}
