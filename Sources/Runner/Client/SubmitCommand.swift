import AgentBundle
import ArgumentParser
import Foundation
import RunnerProtocol
import Sandbox

struct SubmitCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "submit",
        abstract: "Run one program through a runner daemon and exit like `exec` does.",
        discussion: "Exit status as for exec; 75 when the runner answers busy (or is draining), 69 when it cannot be reached or refuses the request."
    )

    @Option(name: .long, help: "The runner's Unix socket.")
    var socket: String = "/run/agentgrid/runner.sock"

    @Option(name: .long, help: "Profile name.")
    var profile: String = "default"

    @OptionGroup var limits: LimitOptions

    @OptionGroup var io: IOOptions

    @Option(name: .long, help: "An agent bundle (.tar.gz with agent.yaml), mounted read-only at /agent.")
    var bundle: String?

    @Option(name: .customLong("run-id"), help: "The run's id (default: a new UUID).")
    var runID: String?

    @Argument(parsing: .postTerminator, help: "The program and its arguments, after --.")
    var command: [String] = []

    func run() async throws {
        guard !command.isEmpty else { throw ValidationError("give the program after --") }
        let asked = try limits.request()
        let wireLimits = RequestedLimits(
            memoryBytes: asked.memoryBytes, pids: asked.pids, milliCPUs: asked.milliCPUs,
            cpuTimeMs: asked.cpuTimeMs, wallTimeMs: asked.wallTimeMs)
        let variables = try io.variables().map { ExecuteRequest.Variable(name: $0.name, value: $0.value) }
        var stdin: [UInt8] = []
        if let stdinFile = try io.checkedStdinFile() {
            guard let data = FileManager.default.contents(atPath: stdinFile) else { throw ValidationError("--stdin: cannot read \(stdinFile)") }
            stdin = Array(data)
        }
        var reference: BundleReference?
        if let bundle {
            guard let data = FileManager.default.contents(atPath: bundle) else { throw ValidationError("--bundle: cannot read \(bundle)") }
            reference = BundleReference(sha256: BundleUnpacker.sha256(Array(data)), data: Array(data))
        }
        let id = runID ?? UUID().uuidString.lowercased()
        let request = ExecuteRequest(runID: id, profile: profile, arguments: command, environment: variables,
                                     limits: wireLimits, stdin: stdin, streamLogs: true, bundle: reference)

        let client: RunnerClient
        do {
            client = try await RunnerClient.connect(socketPath: socket)
        } catch {
            fail("cannot reach the runner at \(socket): \(error)", code: SubmitExit.unreachable)
        }
        let cancel = SignalForwarder(signals: [SIGINT, SIGTERM]) {
            Task { try? await RunnerClient.connect(socketPath: socket).exchange(client: "agentgrid-runner submit (cancel)", [.cancel(runID: id)]) { _ in false } }
        }
        defer { cancel.stop() }
        var exitCode: Int32 = SubmitExit.unreachable
        do {
            try await client.exchange(client: "agentgrid-runner submit", [.execute(request)]) { message in
                switch message {
                case .log(let chunk) where chunk.runID == id:
                    FileHandle(fileDescriptor: chunk.stream == "stdout" ? 1 : 2).write(Data(chunk.data))
                    return true
                case .rejected(let rejected, let reason, let detail) where rejected == id:
                    if reason == .busy || reason == .draining {
                        printError("agentgrid-runner: runner \(reason == .busy ? "busy" : "draining"): \(detail)")
                        exitCode = SubmitExit.busy
                    } else {
                        printError("agentgrid-runner: rejected (\(reason.rawValue)): \(detail)")
                        exitCode = reason == .limitAboveCeiling || reason == .unknownProfile ? RunnerExit.usage : SubmitExit.unreachable
                    }
                    return false
                case .finished(let finished, let record, _) where finished == id:
                    if let setup = record.setupError { printError("agentgrid-runner: \(setup.step): \(setup.errnoName) \(setup.detail ?? "")") }
                    try io.writeRecord(json: record.sortedJSONText)
                    exitCode = SubmitExit.code(for: record)
                    return false
                case .error(let text):
                    printError("agentgrid-runner: runner error: \(text)")
                    return false
                default:
                    return true
                }
            }
        } catch {
            fail("\(error)", code: SubmitExit.unreachable)
        }
        Foundation.exit(exitCode)
    }
}

/// `submit` exits like `exec`, plus its own two cases.
enum SubmitExit {
    static let busy: Int32 = 75          // EX_TEMPFAIL: try again later
    static let unreachable: Int32 = 69   // EX_UNAVAILABLE: no runner, or it refused the request

    static func code(for record: RunRecord) -> Int32 {
        RunnerExit.code(outcome: record.outcome, exitCode: record.exitCode, signal: record.signal,
                        setupStep: record.setupError?.step, setupErrno: record.setupError?.errno)
    }
}
