import Broker
import BusProtocol
import Glibc

// `--version` anywhere on the line answers before the options are read, so it works even
// beside a bad option or an unreadable config file (what someone checking an install runs).
if CommandLine.arguments.dropFirst().contains("--version") {
    print("broker-server \(BusVersion.string)")
    exit(0)
}

// Signals are blocked before any thread starts, so every loop inherits the mask and SIGTERM
// is read on the main thread only; SIGPIPE can never kill the process.
let signalFD = BrokerServer.blockSignals()

let options: ServerOptions
do {
    options = try ServerOptions.load(Array(CommandLine.arguments.dropFirst()), environment: ServerOptions.processEnvironment)
} catch {
    Sys.writeStandardError("broker-server: \(error)\n")
    exit(2)
}
if options.showHelp {
    print(ServerOptions.helpText, terminator: "")
    exit(0)
}
do {
    let server = try BrokerServer(config: options.config, log: options.log)
    server.runUntilSignalled(signalFD: signalFD, shutdownTimeout: options.config.closeTimeout)
    exit(0)
} catch {
    Sys.writeStandardError("broker-server: \(error)\(hint(for: error))\n")
    exit(error is ConfigError ? 2 : 1)
}

/// What to do about a start-up failure a newcomer meets first.
func hint(for error: Error) -> String {
    guard let failure = error as? SystemError else { return "" }
    switch (failure.call.hasPrefix("bind"), failure.errno) {
    case (true, EADDRINUSE):
        return " — another process listens there (another broker-server?): stop it, or choose another port with --port or BUS_PORT (0 picks a free one)"
    case (true, EACCES):
        return " — ports below 1024 need privileges: use a higher --port, or put a reverse proxy in front"
    default:
        return ""
    }
}
