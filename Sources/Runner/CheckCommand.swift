import ArgumentParser
import Foundation
import Sandbox

/// `agentgrid-runner check`: can this host run sandboxes safely? Probes each isolation feature,
/// then proves it by running a program under the default profile and inspecting it from inside.
struct CheckCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Report namespaces, cgroups and seccomp, and whether sandboxes can run safely here (exit 0 if so)."
    )

    @Option(name: .long, help: "Directory of profiles.")
    var profiles: String?

    @Option(name: .long, help: "Profile used for the trial run.")
    var profile: String = "default"

    @Flag(name: .long, help: "Print the report as JSON.")
    var json = false

    func run() async throws {
        var report = HostCheck.probe()
        if report.blockers.isEmpty {
            await trialRun(&report)
        }
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
            print(String(decoding: try encoder.encode(report), as: UTF8.self))
        } else {
            print(report.text)
        }
        if !report.blockers.isEmpty { throw ExitCode(1) }
    }

    /// A real run: uid, capabilities, NoNewPrivs and seccomp mode as the program sees them.
    private func trialRun(_ report: inout HostCheck.Report) async {
        do {
            let loaded = try ProfileLoader.resolve(profile, directory: ProfileLocation.directory(profiles))
            let engine = try SandboxEngine(configuration: EngineConfiguration(
                slots: 1, instance: "check-\(getpid())", stateDirectory: ProfileLocation.stateDirectory))
            defer { Task { await engine.shutdown() } }
            let result = try await engine.run(
                RunRequest(arguments: ["/bin/cat", "/proc/self/status"]), profile: loaded)
            await engine.shutdown()
            report.trial = HostCheck.Trial(profile: loaded.name, result: result)
        } catch {
            report.blockers.append("trial run under profile \(profile) could not start: \(error)")
        }
        if let trial = report.trial { report.blockers += trial.problems }
    }
}
