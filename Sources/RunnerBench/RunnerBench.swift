import BenchSupport
import Foundation
import RunnerProtocol
import Sandbox
import Synchronization

/// `agentgrid-runner-bench --runner PATH [--runs N] [--profiles DIR]`: a trivial program
/// through `agentgrid-runner serve` (2 slots, 8 concurrent clients on persistent connections),
/// submit-to-finished p50/p99 and runs per second, beside the sandbox spawn itself (the engine
/// in process: one loop for latency, two parallel loops for throughput) and `agentgrid-runner
/// exec` one-shot, all in this run. Ends with one JSON line.
@main
struct RunnerBench {
    static let slots = 2, clients = 8

    static func main() async throws {
        let arguments = CommandLine.arguments
        func option(_ name: String) -> String? {
            arguments.firstIndex(of: name).flatMap { arguments.indices.contains($0 + 1) ? arguments[$0 + 1] : nil }
        }
        let runs = Int(option("--runs") ?? "") ?? 400
        let runner = option("--runner") ?? ".build/release/agentgrid-runner"
        let profilesDirectory = option("--profiles") ?? "profiles"
        let profile = try ProfileLoader.resolve("default", directory: profilesDirectory)
        let state = NSTemporaryDirectory() + "agentgrid-runner-bench-\(getpid())"
        try FileManager.default.createDirectory(atPath: state, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: state) }

        // The spawn itself: the engine the daemon drives, in this process.
        let engine = try SandboxEngine(configuration: EngineConfiguration(slots: slots, instance: "runner-bench-\(getpid())", stateDirectory: state))
        let request = RunRequest(arguments: ["/bin/true"])
        @Sendable func spawnOnce() async throws -> Int64 {
            let start = now()
            let result = try await engine.run(request, profile: profile)
            guard result.outcome == .completed else { throw BenchError(message: "spawn ended as \(result.outcome)") }
            return now() - start
        }
        for _ in 0..<20 { _ = try await spawnOnce() }
        var spawn = Samples()
        for _ in 0..<runs { spawn.add(try await spawnOnce()) }

        // One-shot CLI, for reference: process start-up, profile loading, engine set-up.
        var oneShot = Samples()
        for _ in 0..<min(50, runs) {
            let start = now()
            let status = try run(runner, ["exec", "--profiles", profilesDirectory, "--", "/bin/true"], state: state)
            guard status == 0 else { throw BenchError(message: "exec exited \(status)") }
            oneShot.add(now() - start)
        }

        // The daemon.
        let socket = state + "/runner.sock"
        let daemon = Process()
        daemon.executableURL = URL(fileURLWithPath: runner)
        daemon.arguments = ["serve", "--socket", socket, "--slots", "\(slots)", "--queue", "\(clients * 2)",
                            "--state-dir", state + "/daemon", "--profiles", profilesDirectory, "--name", "runner-bench-\(getpid())-daemon"]
        daemon.standardError = FileHandle.nullDevice
        try daemon.run()
        defer { daemon.terminate(); daemon.waitUntilExit() }
        var connected = false
        for _ in 0..<500 where !connected {
            connected = await reachable(socket)
            if !connected { try await Task.sleep(for: .milliseconds(20)) }
        }
        guard connected else { throw BenchError(message: "the daemon did not come up") }

        // Latency: one client, one run at a time, so nothing waits for a slot.
        let single = LatencyCollector()
        _ = try await drive(socket: socket, client: 0, runs: runs, warmup: 10, into: single)
        // Throughput, in alternating rounds so a burst of this machine's noise (steal time)
        // cannot land on one side only: two parallel spawn loops in process, then 8 clients on
        // persistent connections keeping the daemon's 2 slots busy.
        let rounds = 4
        let perClient = max(4, runs / clients / rounds)
        let perLoop = clients * perClient / 2
        let loaded = LatencyCollector()
        var spawnTime: Int64 = 0, daemonElapsed: Int64 = 0, daemonCPU: Int64 = 0, clientCPU: Int64 = 0
        for round in 0..<rounds {
            spawnTime += try await elapsed(callers: 2, runsEach: perLoop) { _ = try await spawnOnce() }
            let daemonCPUBefore = ProcessCPU.microseconds(pid: daemon.processIdentifier)
            let clientCPUBefore = ProcessCPU.ownMicroseconds()
            let daemonStart = now()
            try await withThrowingTaskGroup(of: Void.self) { group in
                for client in 1...clients {
                    group.addTask {
                        try await drive(socket: socket, client: round * 100 + client, runs: perClient, warmup: 0, into: loaded)
                    }
                }
                try await group.waitForAll()
            }
            daemonElapsed += now() - daemonStart
            daemonCPU += ProcessCPU.microseconds(pid: daemon.processIdentifier) - daemonCPUBefore
            clientCPU += ProcessCPU.ownMicroseconds() - clientCPUBefore
        }
        await engine.shutdown()
        let loadedRuns = Double(rounds * clients * perClient)
        let parallelSpawnRate = loadedRuns / (Double(spawnTime) / 1_000_000)
        let daemonCPUPerRun = Double(daemonCPU) / loadedRuns / 1_000
        let clientCPUPerRun = Double(clientCPU) / loadedRuns / 1_000
        let daemonSamples = single.samples
        let daemonRate = loadedRuns / (Double(daemonElapsed) / 1_000_000)

        print("trivial run (/bin/true, default profile), \(slots) slots")
        print("path                                   p50 ms    p99 ms")
        for (name, samples) in [("sandbox spawn (engine, in process)", spawn), ("through the daemon, 1 client", daemonSamples),
                                ("through the daemon, \(clients) clients", loaded.samples), ("agentgrid-runner exec one-shot", oneShot)] {
            print(name.padding(toLength: 37, withPad: " ", startingAt: 0) + String(format: "%8.3f  %8.3f", samples.p50, samples.p99))
        }
        print(String(format: "runs/s: daemon %.1f, two parallel spawn loops %.1f (ratio %.2f)", daemonRate, parallelSpawnRate, daemonRate / parallelSpawnRate))
        print(String(format: "CPU per run under load: daemon process %.3f ms (its sandboxes' own start-up included), the 8 clients %.3f ms",
                     daemonCPUPerRun, clientCPUPerRun))
        print(jsonLine([
            ("bench", "runner"), ("slots", slots), ("clients", clients),
            ("daemon_p50_ms", rounded(daemonSamples.p50)), ("daemon_p99_ms", rounded(daemonSamples.p99)),
            ("spawn_p50_ms", rounded(spawn.p50)), ("overhead_p50_ms", rounded(daemonSamples.p50 - spawn.p50)),
            ("daemon_runs_per_s", rounded(daemonRate, 1)), ("parallel_spawn_runs_per_s", rounded(parallelSpawnRate, 1)),
            ("throughput_ratio", rounded(daemonRate / parallelSpawnRate)),
        ]))
    }

    /// One client on one connection submitting `runs` trivial runs back to back.
    static func drive(socket: String, client: Int, runs: Int, warmup: Int, into latencies: LatencyCollector) async throws {
        let connection = try await RunnerClient.connect(socketPath: socket)
        try await connection.withSession(client: "bench-\(client)") { session in
            for index in 0..<(runs + warmup) {
                let runID = "c\(client)-\(index)"
                let start = now()
                try await session.send(.execute(ExecuteRequest(runID: runID, profile: "default", arguments: ["/bin/true"], streamLogs: false)))
                finished: while let reply = try await session.next() {
                    switch reply {
                    case .finished(runID, let record, _):
                        guard record.outcome == "completed" else { throw BenchError(message: "run ended as \(record.outcome)") }
                        break finished
                    case .rejected(runID, let reason, let detail):
                        throw BenchError(message: "rejected \(reason): \(detail)")
                    default:
                        continue
                    }
                }
                if index >= warmup { latencies.add(now() - start) }
            }
        }
    }

    static func run(_ executable: String, _ arguments: [String], state: String) throws -> Int32 {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.environment = ["PATH": "/usr/bin:/bin", "AGENTGRID_STATE_DIR": state + "/exec"]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        return process.terminationStatus
    }
}
