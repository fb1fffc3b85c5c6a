final class ChurnBench: DeliveryBench {
    func run() throws -> BenchReport { throw BenchFailure("not built yet") }
}
