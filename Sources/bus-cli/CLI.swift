import BusClient
import Foundation
import Frames

/// Shared pieces of the commands: flags, the server URL, errors.
enum CLI {
    static let defaultURL = "ws://127.0.0.1:8080/bus"

    static let helpText = """
        bus-cli: talk to a bus server.

        Usage:
          bus-cli sub TOPIC [TOPIC...] [options]   print messages as they arrive
          bus-cli pub TOPIC MSG [options]          publish MSG (or each line of stdin with MSG -)
          bus-cli bench SCENARIO [options]         measure a server: fanout, saturate, topics, idle, churn, slow, echo
          bus-cli completion bash|zsh              print a shell completion script
          bus-cli --version                        print the version (also: bus-cli version)

        Run 'bus-cli COMMAND --help' for each command's options.

        """

    /// The server from `--url`, else the `BUS_URL` environment variable (set once for a shell
    /// instead of on every command), else `defaultURL`. `ws://host:port` without a path means
    /// `/bus`. A bad value is named by where it came from.
    static func url(_ flag: String?, environment: [String: String] = ProcessInfo.processInfo.environment) throws -> WebSocketURL {
        let fromEnvironment = environment["BUS_URL"].flatMap { $0.isEmpty ? nil : $0 }
        let source = flag == nil && fromEnvironment != nil ? "BUS_URL" : "--url"
        do { return try WebSocketURL(flag ?? fromEnvironment ?? defaultURL, defaultPath: "/bus") } catch {
            throw UsageError("\(source): \(error.message)")
        }
    }

    /// "1 subscriber", "0 subscribers", "2 subscribers".
    static func count(_ number: Int, _ noun: String) -> String {
        "\(number) \(noun)\(number == 1 ? "" : "s")"
    }

    /// Whether a TOPIC argument has wildcards (`*` or `>`), so it can deliver many topics.
    static func isPattern(_ topic: String) -> Bool { topic.contains("*") || topic.contains(">") }

    /// The token from `--token`, else the `BUS_TOKEN` environment variable
    /// (which keeps the token out of `ps` and shell history); none when neither is set.
    static func token(_ flag: String?) -> String? {
        guard let token = flag ?? ProcessInfo.processInfo.environment["BUS_TOKEN"], !token.isEmpty else { return nil }
        return token
    }

    /// The one line a failure prints: the error in plain words and, where there is one, the
    /// likely fix. The only place that turns connection errors into text for the user.
    static func explain(_ error: any Error) -> String {
        switch error {
        case BusClientError.cannotResolve:
            return "\(error) — check the host in --url / BUS_URL"
        case BusClientError.cannotConnect(_, _, refused: true):
            return "\(error) — is broker-server running? (start it with: broker-server, or set --url / BUS_URL)"
        default:
            return "\(error)"
        }
    }

    static func fail(_ message: String, status: Int32) -> Never {
        FileHandle.standardError.write(Data("bus-cli: \(message)\n".utf8))
        exit(status)
    }

    static func warn(_ message: String) {
        FileHandle.standardError.write(Data("bus-cli: \(message)\n".utf8))
    }
}

struct UsageError: Error {
    let message: String
    init(_ message: String) { self.message = message }
}

struct HelpRequested: Error {
    let text: String
}

/// A tiny flag parser: `--flag`, `--option VALUE`, `--option=VALUE`, and positional words.
struct Flags {
    var positional: [String] = []
    private var values: [String: String] = [:]
    private var switches: Set<String> = []

    /// `shortSwitches` maps one-letter switches (`-v`) to their long names.
    init(_ arguments: [String], options: Set<String>, switches known: Set<String>, help: String,
         shortSwitches: [Character: String] = [:]) throws {
        var index = 0
        while index < arguments.count {
            let argument = arguments[index]
            index += 1
            if argument == "--help" || argument == "-h" { throw HelpRequested(text: help) }
            if argument.count == 2, argument.hasPrefix("-"), let long = shortSwitches[argument.last!] {
                switches.insert(long)
                continue
            }
            guard argument.hasPrefix("--"), argument.count > 2 else {
                positional.append(argument)
                continue
            }
            var name = String(argument.dropFirst(2))
            var value: String?
            if let equals = name.firstIndex(of: "=") {
                value = String(name[name.index(after: equals)...])
                name = String(name[..<equals])
            }
            if known.contains(name) {
                guard value == nil else { throw UsageError("--\(name) takes no value") }
                switches.insert(name)
            } else if options.contains(name) {
                if value == nil {
                    guard index < arguments.count else { throw UsageError("--\(name) needs a value") }
                    value = arguments[index]
                    index += 1
                }
                values[name] = value
            } else {
                throw UsageError("unknown option --\(name)")
            }
        }
    }

    func value(_ name: String) -> String? { values[name] }
    func has(_ name: String) -> Bool { switches.contains(name) }

    func integer(_ name: String) throws -> Int? {
        guard let text = values[name] else { return nil }
        guard let number = Int(text), number >= 0 else { throw UsageError("--\(name): '\(text)' is not a whole number") }
        return number
    }
}
