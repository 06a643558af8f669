import Foundation
import Glibc
import Synchronization
import Testing
@testable import Sandbox

/// Shared pieces of the tests that run real sandboxes: the repository's profiles, the attack
/// probe (compiled once, statically, so it needs nothing from the sandbox's /usr), and engines
/// that are always shut down so no test leaves cgroups behind.
enum Fixture {
    static let repository = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    static let profilesDirectory = repository.appendingPathComponent("profiles").path

    static let profiles: [String: Profile] = {
        do { return try ProfileLoader.loadDirectory(profilesDirectory) } catch { fatalError("\(error)") }
    }()

    static func profile(_ name: String = "default") -> Profile { profiles[name]! }

    static let stateDirectory: String = {
        let path = "/run/agentgrid-tests"
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }()

    /// The attack program, built with the host's C compiler.
    static let probe: String = {
        let directory = NSTemporaryDirectory() + "agentgrid-probe-\(getpid())"
        try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let output = directory + "/sandbox-probe"
        let source = repository.appendingPathComponent("Tests/SandboxTests/Probe/sandbox-probe.c").path
        let status = shell(["/usr/bin/cc", "-static", "-O1", "-Wall", "-o", output, source])
        precondition(status == 0, "cannot compile the sandbox probe (is gcc installed?)")
        return output
    }()

    /// The probe bound read-only at /probe inside.
    static var probeBind: PathMapping { PathMapping(source: probe, destination: "/probe") }

    private static let instanceCounter = Mutex(0)

    /// Runs `body` with a fresh engine and always shuts it down.
    static func withEngine<T>(
        slots: Int = 2, hostIDs: Range<UInt32>? = nil,
        _ body: (SandboxEngine) async throws -> T
    ) async throws -> T {
        let number = instanceCounter.withLock { value -> Int in value += 1; return value }
        var configuration = EngineConfiguration(
            slots: slots, instance: "test-\(getpid())-\(number)", stateDirectory: stateDirectory)
        if let hostIDs { configuration.hostIDRange = hostIDs }
        let engine = try SandboxEngine(configuration: configuration)
        do {
            let value = try await body(engine)
            await engine.shutdown()
            return value
        } catch {
            await engine.shutdown()
            throw error
        }
    }

    /// One run on a one-off engine.
    static func run(
        _ arguments: [String], profile: String = "default", limits: LimitRequest = LimitRequest(),
        input: RunRequest.Input = .none, readOnly: [PathMapping] = [], writable: [PathMapping] = [],
        environment: [EnvironmentVariable] = []
    ) async throws -> RunResult {
        try await withEngine(slots: 1) { engine in
            try await engine.run(
                RunRequest(arguments: arguments, environment: environment, input: input, limits: limits,
                           readOnlyBinds: [probeBind] + readOnly, writableBinds: writable),
                profile: Self.profile(profile))
        }
    }

    /// One run on a one-slot engine whose only host uid is `uid`, so the test can look for
    /// that uid's processes on the host afterwards. The probe is bound at /probe.
    static func run(_ request: RunRequest, asHostID uid: UInt32, profile: String = "default") async throws -> RunResult {
        var request = request
        request.readOnlyBinds.append(probeBind)
        return try await withEngine(slots: 1, hostIDs: uid..<(uid + 1)) { engine in
            try await engine.run(request, profile: Self.profile(profile))
        }
    }

    @discardableResult
    static func shell(_ arguments: [String]) -> Int32 {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: arguments[0])
        process.arguments = Array(arguments.dropFirst())
        do { try process.run() } catch { return -1 }
        process.waitUntilExit()
        return process.terminationStatus
    }
}

extension RunResult {
    var output: String { String(decoding: stdout, as: UTF8.self) }
    var errors: String { String(decoding: stderr, as: UTF8.self) }
}

/// Host pids whose real uid is `uid` (for "nothing of the run survives").
func hostProcesses(ownedBy uid: UInt32) -> [Int32] {
    let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
    return entries.compactMap { Int32($0) }.filter { pid in
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return false }
        let uidLine = status.split(separator: "\n").first { $0.hasPrefix("Uid:") }
        return uidLine?.split(whereSeparator: \.isWhitespace).dropFirst().first == Substring(String(uid))
    }
}
