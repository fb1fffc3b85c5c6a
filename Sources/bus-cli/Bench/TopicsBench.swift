final class TopicsBench: DeliveryBench {
    func run() throws -> BenchReport { throw BenchFailure("not built yet") }
}
