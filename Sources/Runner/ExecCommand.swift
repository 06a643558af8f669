import ArgumentParser
import Foundation
import Sandbox

struct ExecCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "exec",
        abstract: "Run one program in a sandbox and exit like it did.",
        discussion: """
            Exit status: the program's own; 128+N when killed by signal N; 124 timeout, \
            123 out of memory, 122 seccomp violation, 121 output limit, 120 sandbox setup error, \
            127 program not found, 126 not executable, 130 cancelled, 64 bad usage or profile.
            """
    )

    @Option(name: .long, help: "Profile name (in --profiles) or path to a profile YAML file.")
    var profile: String = "default"

    @Option(name: .long, help: "Directory of profiles.")
    var profiles: String?

    @OptionGroup var limits: LimitOptions

    @Option(name: .customLong("ro-bind"), help: "Host SRC visible read-only at DST (default SRC).")
    var readOnlyBinds: [String] = []

    @Option(name: .customLong("bind"), help: "Host SRC visible read-write at DST (default SRC).")
    var writableBinds: [String] = []

    @OptionGroup var io: IOOptions

    @Argument(parsing: .postTerminator, help: "The program and its arguments, after --.")
    var command: [String] = []

    func run() async throws {
        guard !command.isEmpty else { throw ValidationError("give the program after --, e.g. exec -- /bin/true") }
        let loaded: Profile
        do {
            loaded = try ProfileLoader.resolve(profile, directory: ProfileLocation.directory(profiles))
        } catch {
            fail("\(error)", code: RunnerExit.usage)
        }
        let request: RunRequest
        do {
            request = try makeRequest()
        } catch {
            fail("\(error)", code: RunnerExit.usage)
        }
        let engine: SandboxEngine
        do {
            engine = try SandboxEngine(configuration: EngineConfiguration(
                slots: 1, instance: "exec-\(getpid())", stateDirectory: ProfileLocation.stateDirectory))
        } catch {
            fail("cannot start the sandbox engine: \(error)", code: RunnerExit.setupError)
        }

        let run = Task { try await engine.run(request, profile: loaded) }
        let interrupts = SignalForwarder(signals: [SIGINT, SIGTERM, SIGHUP]) { run.cancel() }
        let outcome = await run.result
        interrupts.stop()
        await engine.shutdown()

        let result: RunResult
        switch outcome {
        case .success(let value): result = value
        case .failure(let error): fail("\(error)", code: error is SandboxError ? RunnerExit.usage : RunnerExit.setupError)
        }
        if let setup = result.setupError { printError("agentgrid-runner: \(setup)") }
        try io.writeRecord(result)
        Foundation.exit(RunnerExit.code(for: result))
    }

    private func makeRequest() throws -> RunRequest {
        let stdinFile = try io.checkedStdinFile()
        return RunRequest(
            arguments: command, environment: try io.variables(),
            input: stdinFile.map { .file($0) } ?? .none, limits: try limits.request(),
            readOnlyBinds: try readOnlyBinds.map(Self.mapping), writableBinds: try writableBinds.map(Self.mapping),
            outputHandler: { stream, bytes in
                let fd: Int32 = stream == .stdout ? 1 : 2
                bytes.withUnsafeBytes { buffer in
                    var offset = 0
                    while offset < buffer.count {
                        let written = write(fd, buffer.baseAddress! + offset, buffer.count - offset)
                        if written <= 0 { if errno == EINTR { continue }; return }
                        offset += written
                    }
                }
            })
    }

    static func mapping(_ text: String) throws -> PathMapping {
        let parts = text.split(separator: ":", maxSplits: 1).map(String.init)
        guard let source = parts.first, source.hasPrefix("/") else {
            throw ValidationError("bind \(text): SRC must be an absolute host path")
        }
        let destination = parts.count == 2 ? parts[1] : source
        guard destination.hasPrefix("/") else { throw ValidationError("bind \(text): DST must be an absolute path") }
        return PathMapping(source: source, destination: destination)
    }
}

func printError(_ message: String) {
    FileHandle.standardError.write(Data((message + "\n").utf8))
}

func fail(_ message: String, code: Int32) -> Never {
    printError("agentgrid-runner: \(message)")
    exit(code)
}
