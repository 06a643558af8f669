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

    @Option(name: .long, help: "Memory limit, e.g. 64M.")
    var memory: String?

    @Option(name: .long, help: "Process/thread limit.")
    var pids: Int64?

    @Option(name: .long, help: "CPU bandwidth in CPUs, e.g. 0.5.")
    var cpus: String?

    @Option(name: .long, help: "CPU-time limit, e.g. 2s or 500ms.")
    var timeout: String?

    @Option(name: .customLong("wall-timeout"), help: "Wall-clock limit, e.g. 5s.")
    var wallTimeout: String?

    @Option(name: .customLong("ro-bind"), help: "Host SRC visible read-only at DST (default SRC).")
    var readOnlyBinds: [String] = []

    @Option(name: .customLong("bind"), help: "Host SRC visible read-write at DST (default SRC).")
    var writableBinds: [String] = []

    @Option(name: .customLong("env"), help: "Set K=V in the program's environment.")
    var environment: [String] = []

    @Option(name: .customLong("stdin"), help: "Feed this file to the program's stdin.")
    var stdinFile: String?

    @Flag(name: .customLong("json"), help: "Print the result record as JSON on stderr (or --json FILE).")
    var json = false

    @Option(name: .customLong("json-file"), help: .hidden)
    var jsonFile: String?

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
        if json || jsonFile != nil { try writeRecord(result) }
        Foundation.exit(RunnerExit.code(for: result))
    }

    private func makeRequest() throws -> RunRequest {
        var limits = LimitRequest()
        if let memory {
            guard let bytes = Quantity.bytes(memory) else { throw ValidationError("--memory: \(memory) is not a size like 64M") }
            limits.memoryBytes = bytes
        }
        limits.pids = pids
        if let cpus {
            guard let milli = Quantity.milliCPUs(cpus) else { throw ValidationError("--cpus: \(cpus) is not a CPU count like 0.5") }
            limits.milliCPUs = milli
        }
        if let timeout {
            guard let ms = Quantity.milliseconds(timeout) else { throw ValidationError("--timeout: \(timeout) is not a duration like 2s") }
            limits.cpuTimeMs = ms
        }
        if let wallTimeout {
            guard let ms = Quantity.milliseconds(wallTimeout) else { throw ValidationError("--wall-timeout: \(wallTimeout) is not a duration like 5s") }
            limits.wallTimeMs = ms
        }
        if let stdinFile, access(stdinFile, R_OK) != 0 {
            throw ValidationError("--stdin: cannot read \(stdinFile): \(String(cString: strerror(errno)))")
        }
        let variables = try environment.map { pair -> EnvironmentVariable in
            guard let equals = pair.firstIndex(of: "="), equals != pair.startIndex else {
                throw ValidationError("--env: \(pair) is not K=V")
            }
            return EnvironmentVariable(name: String(pair[..<equals]), value: String(pair[pair.index(after: equals)...]))
        }
        return RunRequest(
            arguments: command, environment: variables,
            input: stdinFile.map { .file($0) } ?? .none, limits: limits,
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

    private func writeRecord(_ result: RunResult) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        var data = try encoder.encode(result)
        data.append(0x0A)
        if let jsonFile {
            guard FileManager.default.createFile(atPath: jsonFile, contents: data) else {
                fail("cannot write \(jsonFile)", code: RunnerExit.usage)
            }
        } else {
            FileHandle.standardError.write(data)
        }
    }
}

func printError(_ message: String) {
    FileHandle.standardError.write(Data((message + "\n").utf8))
}

func fail(_ message: String, code: Int32) -> Never {
    printError("agentgrid-runner: \(message)")
    exit(code)
}
