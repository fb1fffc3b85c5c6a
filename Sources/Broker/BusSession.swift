import Topics

/// A `/bus` connection's subscriptions. Hashable by identity so the loop's trie can hold it.
final class BusSession: Hashable {
    unowned let connection: Connection
    /// The exact patterns held; subscribing twice to one is idempotent.
    var patterns: Set<TopicPattern> = []

    init(connection: Connection) { self.connection = connection }

    static func == (a: BusSession, b: BusSession) -> Bool { a === b }
    func hash(into hasher: inout Hasher) { hasher.combine(ObjectIdentifier(self)) }
}
