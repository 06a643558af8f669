import ArgumentParser

@main
struct AgentGridRunner: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "agentgrid-runner",
        abstract: "Runs AgentGrid agent programs in sandboxes (namespaces, seccomp, cgroups).",
        subcommands: [ExecCommand.self, CheckCommand.self, ServeCommand.self, SubmitCommand.self]
    )

    /// `--json FILE` and `--json=FILE` become `--json-file FILE`, so `--json` can be both a flag
    /// (record on stderr) and an option naming a file.
    static func normalise(_ arguments: [String]) -> [String] {
        var result: [String] = []
        var index = 0
        while index < arguments.count {
            let argument = arguments[index]
            if argument == "--" {
                result += arguments[index...]
                break
            }
            if argument.hasPrefix("--json=") {
                result += ["--json-file", String(argument.dropFirst("--json=".count))]
            } else if argument == "--json", index + 1 < arguments.count,
                      !arguments[index + 1].hasPrefix("-") {
                result += ["--json-file", arguments[index + 1]]
                index += 1
            } else {
                result.append(argument)
            }
            index += 1
        }
        return result
    }

    static func main() async {
        let arguments = normalise(Array(CommandLine.arguments.dropFirst()))
        do {
            var command = try parseAsRoot(arguments)
            if var asyncCommand = command as? AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch {
            exit(withError: error)
        }
    }
}
