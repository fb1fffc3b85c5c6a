final class SlowBench: DeliveryBench {
    func run() throws -> BenchReport { throw BenchFailure("not built yet") }
}
