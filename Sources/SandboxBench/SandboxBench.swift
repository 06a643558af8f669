import BenchSupport
import Foundation
import Sandbox

/// `agentgrid-bench [--runs N] [--profiles DIR]`: spawn-to-exit latency of /bin/true under the
/// default profile beside bare fork+exec and bubblewrap, all measured in this run, then runs
/// per second with 2 concurrent callers. Ends with one JSON line.
@main
struct SandboxBench {
    static func main() async throws {
        let arguments = CommandLine.arguments
        func option(_ name: String) -> String? {
            arguments.firstIndex(of: name).flatMap { arguments.indices.contains($0 + 1) ? arguments[$0 + 1] : nil }
        }
        let runs = Int(option("--runs") ?? "") ?? 300
        let profilesDirectory = option("--profiles") ?? "profiles"
        let program = "/bin/true"
        let profile = try ProfileLoader.resolve("default", directory: profilesDirectory)
        let engine = try SandboxEngine(configuration: EngineConfiguration(
            slots: 2, instance: "bench-\(getpid())",
            stateDirectory: ProcessInfo.processInfo.environment["AGENTGRID_STATE_DIR"] ?? "/run/agentgrid"))
        let request = RunRequest(arguments: [program])
        let bare = BaselineSpawner(arguments: [program])
        let bwrap = BaselineSpawner(arguments: bubblewrapArguments(program: program))
        guard bwrap.runOnce() != nil else {
            print("bubblewrap failed: install it with apt-get install -y bubblewrap")
            exit(1)
        }

        @Sendable func sandboxedRun() async throws -> (total: Int64, child: Int64) {
            let start = now()
            let result = try await engine.run(request, profile: profile)
            guard result.outcome == .completed else { throw BenchError(message: "run ended as \(result.outcome): \(result.setupError?.description ?? "")") }
            return (now() - start, result.wallMicroseconds)
        }
        @Sendable func sandboxed() async throws -> Int64 { try await sandboxedRun().total }

        // Warm up every path (page cache, filter compilation, slot cgroups).
        for _ in 0..<20 {
            _ = try await sandboxed()
            _ = bare.runOnce()
            _ = bwrap.runOnce()
        }
        // Interleaved, so drift in the machine's load affects every contender alike.
        var ours = Samples(), childOnly = Samples(), bareSamples = Samples(), bwrapSamples = Samples()
        for _ in 0..<runs {
            let run = try await sandboxedRun()
            ours.add(run.total)
            childOnly.add(run.child)
            if let value = bare.runOnce() { bareSamples.add(value) }
            if let value = bwrap.runOnce() { bwrapSamples.add(value) }
        }

        // Throughput in alternating rounds, so a burst of noise on this shared machine
        // (steal time) cannot land on one contender only.
        let rounds = 6, perCallerPerRound = max(10, runs / 12)
        var oursTime: Int64 = 0, bwrapTime: Int64 = 0
        for _ in 0..<rounds {
            oursTime += try await elapsed(callers: 2, runsEach: perCallerPerRound) { _ = try await sandboxed() }
            bwrapTime += try await elapsed(callers: 2, runsEach: perCallerPerRound) {
                guard bwrap.runOnce() != nil else { throw BenchError(message: "bwrap failed") }
            }
        }
        let totalRuns = Double(rounds * 2 * perCallerPerRound)
        let oursRate = totalRuns / (Double(oursTime) / 1_000_000)
        let bwrapRate = totalRuns / (Double(bwrapTime) / 1_000_000)
        await engine.shutdown()

        let rows: [(String, Samples)] = [
            ("agentgrid (default profile)", ours), ("  of which clone to reaped", childOnly),
            ("bubblewrap", bwrapSamples), ("bare fork+exec", bareSamples),
        ]
        print("spawn-to-exit of \(program), \(runs) runs each")
        print("contender                       p50 ms    p99 ms")
        for (name, samples) in rows {
            print(name.padding(toLength: 30, withPad: " ", startingAt: 0)
                  + String(format: "%8.3f  %8.3f", samples.p50, samples.p99))
        }
        print(String(format: "ratio p50 agentgrid/bubblewrap: %.3f   agentgrid/bare: %.3f",
                     ours.p50 / bwrapSamples.p50, ours.p50 / bareSamples.p50))
        print(String(format: "runs/s with 2 callers: agentgrid %.1f, bubblewrap %.1f (%.2fx)",
                     oursRate, bwrapRate, oursRate / bwrapRate))
        let record: [(String, any Sendable)] = [
            ("bench", "spawn"), ("runs", runs),
            ("agentgrid_p50_ms", rounded(ours.p50)), ("agentgrid_p99_ms", rounded(ours.p99)),
            ("bwrap_p50_ms", rounded(bwrapSamples.p50)), ("bare_p50_ms", rounded(bareSamples.p50)),
            ("ratio_vs_bwrap", rounded(ours.p50 / bwrapSamples.p50)),
            ("runs_per_s_2_callers", rounded(oursRate, 1)), ("bwrap_runs_per_s_2_callers", rounded(bwrapRate, 1)),
        ]
        print(jsonLine(record))
    }
}
