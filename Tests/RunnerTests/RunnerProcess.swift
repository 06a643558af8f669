import Foundation
import Testing

/// Runs the real `agentgrid-runner` binary built next to this test executable.
enum RunnerProcess {
    /// What one invocation of the binary did.
    struct Output: Sendable {
        var status: Int32
        /// True when the runner itself was killed by a signal (it should always exit).
        var signalled: Bool
        var stdout: Data
        var stderr: Data
        var seconds: Double

        var stdoutText: String { String(decoding: stdout, as: UTF8.self) }
        var stderrText: String { String(decoding: stderr, as: UTF8.self) }

        /// The `--json` record: the last stderr line that is a JSON object.
        func record(sourceLocation: SourceLocation = #_sourceLocation) throws -> [String: Any] {
            let line = stderrText.split(separator: "\n").last { $0.hasPrefix("{") }
            let text = try #require(line, "no JSON record on stderr: \(stderrText)", sourceLocation: sourceLocation)
            return try RunnerProcess.jsonObject(Data(text.utf8), sourceLocation: sourceLocation)
        }
    }

    /// The repository's `profiles/` directory, found from this file's location.
    static let profilesDirectory: String = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }  // RunnerProcess.swift, RunnerTests, Tests
        return url.appendingPathComponent("profiles").path
    }()

    /// `agentgrid-runner` in the directory of the running test executable (the build's
    /// products directory, e.g. .build-cli/x86_64-unknown-linux-gnu/debug/).
    static let binary: String = {
        let executable = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        return executable.deletingLastPathComponent().appendingPathComponent("agentgrid-runner").path
    }()

    /// A minimal environment for the runner: no AGENTGRID_* leaks in from the developer's shell.
    static let baseEnvironment: [String: String] = ["PATH": "/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8"]

    /// `agentgrid-runner <subcommand> --profiles <repo>/profiles <arguments...>`.
    static func run(
        _ subcommand: String, _ arguments: [String], environment: [String: String] = [:],
        passProfiles: Bool = true, timeoutSeconds: Double = 30
    ) async throws -> Output {
        let profiles = passProfiles ? ["--profiles", profilesDirectory] : []
        return try await launch([subcommand] + profiles + arguments, environment: environment, timeoutSeconds: timeoutSeconds)
    }

    /// Runs the binary with exactly `arguments`, capturing stdout and stderr in files (a
    /// program may write more than a pipe holds before the runner exits).
    static func launch(
        _ arguments: [String], environment: [String: String] = [:], timeoutSeconds: Double = 30,
        executable: String = binary
    ) async throws -> Output {
        try #require(FileManager.default.isExecutableFile(atPath: binary), "agentgrid-runner not built at \(binary)")
        let scratch = try TemporaryDirectory(prefix: "runner-io")
        let stdoutPath = scratch.path + "/stdout", stderrPath = scratch.path + "/stderr"
        try #require(FileManager.default.createFile(atPath: stdoutPath, contents: nil))
        try #require(FileManager.default.createFile(atPath: stderrPath, contents: nil))
        let stdoutHandle = try FileHandle(forWritingTo: URL(fileURLWithPath: stdoutPath))
        let stderrHandle = try FileHandle(forWritingTo: URL(fileURLWithPath: stderrPath))

        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.environment = baseEnvironment.merging(environment) { $1 }
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = stdoutHandle
        process.standardError = stderrHandle

        let watchdog = Watchdog()
        let started = ContinuousClock.now
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            process.terminationHandler = { _ in
                watchdog.finish()
                continuation.resume()
            }
            do {
                try process.run()
            } catch {
                continuation.resume(throwing: error)
                return
            }
            watchdog.arm(pid: process.processIdentifier, after: timeoutSeconds)
        }
        let elapsed = ContinuousClock.now - started
        try stdoutHandle.close()
        try stderrHandle.close()
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        #expect(!watchdog.fired, "agentgrid-runner \(arguments) did not finish within \(timeoutSeconds) s")
        return Output(
            status: process.terminationStatus, signalled: process.terminationReason == .uncaughtSignal,
            stdout: try Data(contentsOf: URL(fileURLWithPath: stdoutPath)),
            stderr: try Data(contentsOf: URL(fileURLWithPath: stderrPath)),
            seconds: seconds)
    }

    static func jsonObject(_ data: Data, sourceLocation: SourceLocation = #_sourceLocation) throws -> [String: Any] {
        let value = try JSONSerialization.jsonObject(with: data)
        return try #require(value as? [String: Any], "not a JSON object: \(String(decoding: data, as: UTF8.self))",
                            sourceLocation: sourceLocation)
    }
}

/// Kills a runner that hangs, so a bug fails one test instead of stalling the suite.
private final class Watchdog: @unchecked Sendable {
    private let lock = NSLock()
    private var done = false
    private var killed = false

    var fired: Bool { lock.withLock { killed } }

    func finish() { lock.withLock { done = true } }

    func arm(pid: Int32, after seconds: Double) {
        DispatchQueue.global().asyncAfter(deadline: .now() + seconds) { [self] in
            lock.withLock {
                guard !done else { return }
                killed = true
                kill(pid, SIGKILL)
            }
        }
    }
}

/// A directory under /tmp removed when the value goes away.
final class TemporaryDirectory {
    let path: String

    init(prefix: String, mode: Int = 0o755) throws {
        path = NSTemporaryDirectory() + "\(prefix)-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        // Explicit, not umask-dependent: sandboxed programs run as an unprivileged slot uid.
        try FileManager.default.setAttributes([.posixPermissions: mode], ofItemAtPath: path)
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }

    /// Writes a world-readable file inside the directory and returns its path.
    @discardableResult
    func write(_ name: String, _ contents: String) throws -> String {
        let file = path + "/" + name
        try Data(contents.utf8).write(to: URL(fileURLWithPath: file))
        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: file)
        return file
    }
}
