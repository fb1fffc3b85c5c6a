final class IdleBench: DeliveryBench {
    func run() throws -> BenchReport { throw BenchFailure("not built yet") }
}
