import BusProtocol
import Foundation

// bus-cli: subscribe, publish and measure against a bus server. Errors are one line on
// standard error and a non-zero exit status (2 for bad usage).
let arguments = Array(CommandLine.arguments.dropFirst())
let command = arguments.first ?? "--help"
let rest = Array(arguments.dropFirst())

do {
    switch command {
    case "sub": try await SubCommand(rest).run()
    case "pub": try await PubCommand(rest).run()
    case "bench": exit(try BenchCommand(rest).run())
    case "completion": try CompletionCommand(rest).run()
    case "--help", "-h", "help": print(CLI.helpText, terminator: "")
    case "--version", "version": print("bus-cli \(BusVersion.string)")
    default: throw UsageError("unknown command '\(command)'")
    }
} catch let error as UsageError {
    CLI.fail("\(error.message) (see bus-cli --help)", status: 2)
} catch let error as HelpRequested {
    print(error.text, terminator: "")
} catch {
    CLI.fail(CLI.explain(error), status: 1)
}
exit(0)
