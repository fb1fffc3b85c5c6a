import BusBench

/// `bus-cli bench SCENARIO`: reads the flags, has BusBench run the scenario, prints its
/// table and then its JSON line.
struct BenchCommand {
    let options: BenchOptions

    init(_ arguments: [String]) throws {
        options = try BenchArguments(arguments).options()
    }

    /// Exit status: 0 when the scenario passed, 1 when it failed or could not run.
    func run() throws -> Int32 {
        let report = try Bench.run(options, warn: CLI.warn)
        print(report.table(), terminator: "")
        print(report.jsonLine())
        return report.passed ? 0 : 1
    }
}
