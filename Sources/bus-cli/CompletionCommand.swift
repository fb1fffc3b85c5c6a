import BusBench

/// `bus-cli completion bash|zsh`: prints a shell completion script. The subcommands' flags
/// come from the same `options`/`switches` sets their parsers use, and the scenarios from
/// `Bench.scenarios`, so the script cannot drift from what the commands accept.
struct CompletionCommand {
    static let help = """
        Usage: bus-cli completion bash|zsh

        Prints a completion script for the shell: subcommands, bench scenarios and each
        command's flags. Install it with
          bash: bus-cli completion bash > ~/.local/share/bash-completion/completions/bus-cli
          zsh:  bus-cli completion zsh > "${fpath[1]}/_bus-cli"   (then start a new shell)
        or load it into the running shell with: source <(bus-cli completion bash|zsh)

        """

    static let shells = ["bash", "zsh"]

    /// The subcommands, in `--help` order.
    static let commands = ["sub", "pub", "bench", "completion", "version"]

    /// A command's flags: those that take a value, those that do not.
    static let flags: [String: (options: Set<String>, switches: Set<String>)] = [
        "sub": (SubCommand.options, SubCommand.switches),
        "pub": (PubCommand.options, PubCommand.switches),
        "bench": (BenchArguments.options, BenchArguments.switches),
    ]

    let shell: String

    init(_ arguments: [String]) throws {
        let flags = try Flags(arguments, options: [], switches: [], help: Self.help)
        guard flags.positional.count == 1, Self.shells.contains(flags.positional[0]) else {
            throw UsageError("completion needs one SHELL: \(Self.shells.joined(separator: ", "))")
        }
        shell = flags.positional[0]
    }

    func run() {
        print(shell == "bash" ? Self.bash() : Self.zsh(), terminator: "")
    }

    /// `--a --b` for one command, sorted so the script is the same on every run.
    private static func words(_ command: String, switches: Bool = true) -> String {
        guard let entry = flags[command] else { return "--help" }
        let names = entry.options.union(switches ? entry.switches : [])
        return (names.sorted().map { "--\($0)" } + ["--help"]).joined(separator: " ")
    }

    /// Every flag that takes a value, in any command: the word after it is not a flag.
    private static var valueFlags: String {
        flags.values.reduce(into: Set<String>()) { $0.formUnion($1.options) }.sorted().map { "--\($0)" }.joined(separator: "|")
    }

    static func bash() -> String {
        """
        # bash completion for bus-cli (bus-cli completion bash)
        _bus_cli() {
            local cur="${COMP_WORDS[COMP_CWORD]}" prev="${COMP_WORDS[COMP_CWORD-1]}" opts
            if [ "$COMP_CWORD" -eq 1 ]; then
                COMPREPLY=($(compgen -W "\(commands.joined(separator: " ")) --help --version" -- "$cur"))
                return
            fi
            case "${COMP_WORDS[1]}" in
                sub) opts="\(words("sub"))" ;;
                pub) opts="\(words("pub"))" ;;
                bench)
                    opts="\(words("bench"))"
                    if [ "$COMP_CWORD" -eq 2 ] && [[ "$cur" != -* ]]; then
                        COMPREPLY=($(compgen -W "\(Bench.scenarios.joined(separator: " "))" -- "$cur"))
                        return
                    fi ;;
                completion)
                    [ "$COMP_CWORD" -eq 2 ] && COMPREPLY=($(compgen -W "\(shells.joined(separator: " "))" -- "$cur"))
                    return ;;
                *) return ;;
            esac
            case "$prev" in
                --binary) COMPREPLY=($(compgen -f -- "$cur")); return ;;
                \(valueFlags)) return ;;
            esac
            [[ "$cur" == -* ]] && COMPREPLY=($(compgen -W "$opts" -- "$cur"))
        }
        complete -F _bus_cli bus-cli

        """
    }

    static func zsh() -> String {
        """
        #compdef bus-cli
        # zsh completion for bus-cli (bus-cli completion zsh)
        _bus_cli() {
            local -a opts
            if (( CURRENT == 2 )); then
                compadd -- \(commands.joined(separator: " ")) --help --version
                return
            fi
            case $words[2] in
                sub) opts=(\(words("sub"))) ;;
                pub) opts=(\(words("pub"))) ;;
                bench)
                    opts=(\(words("bench")))
                    if (( CURRENT == 3 )) && [[ $PREFIX != -* ]]; then
                        compadd -- \(Bench.scenarios.joined(separator: " "))
                        return
                    fi ;;
                completion)
                    (( CURRENT == 3 )) && compadd -- \(shells.joined(separator: " "))
                    return ;;
                *) return ;;
            esac
            case $words[CURRENT-1] in
                --binary) _files; return ;;
                \(valueFlags)) return ;;
            esac
            [[ $PREFIX == -* ]] && compadd -- $opts
        }
        if [ "$funcstack[1]" = "_bus-cli" ]; then _bus_cli "$@"; else compdef _bus_cli bus-cli; fi

        """
    }
}
