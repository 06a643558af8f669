import BenchSupport
import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import RunnerProtocol

/// `agentgrid-e2e-bench --agentgrid PATH --runner PATH [--runs N] [--profiles DIR]`: a trivial
/// agent through the whole product — HTTP submit, credits held, dispatched to a runner with 2
/// slots, settled — beside the same bundle sent to the same runner directly over the runner
/// protocol, in the same run. Latency: one client, submit to completed (the client follows the
/// run's event stream, so no polling interval is added). Throughput: 16 concurrent clients on
/// each path, in rounds that take turns.
/// Ends with one JSON line; `ledger_discrepancies` is `agentgrid ledger verify` afterwards.
@main
struct E2EBench {
    static let slots = 2, clients = 16, rounds = 3

    static func main() async throws {
        let arguments = CommandLine.arguments
        func option(_ name: String) -> String? {
            arguments.firstIndex(of: name).flatMap { arguments.indices.contains($0 + 1) ? arguments[$0 + 1] : nil }
        }
        let runs = Int(option("--runs") ?? "") ?? 300
        let agentgrid = option("--agentgrid") ?? ".build/release/agentgrid"
        let runner = option("--runner") ?? ".build/release/agentgrid-runner"
        let profiles = URL(fileURLWithPath: option("--profiles") ?? "profiles").standardizedFileURL.path
        let work = NSTemporaryDirectory() + "agentgrid-e2e-bench-\(getpid())"
        try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: work) }
        let bundle = try TrivialAgent.archive(in: work)

        // The runner, alone first.
        let socket = work + "/runner.sock"
        let daemon = try start(runner, ["serve", "--socket", socket, "--slots", "\(slots)", "--queue", "\(clients * 2)",
                                        "--state-dir", work + "/runner", "--profiles", profiles, "--name", "e2e-bench-\(getpid())"],
                               log: work + "/runner.log")
        defer { stop(daemon) }
        guard try await waitFor({ await reachable(socket) }) else { throw BenchError(message: "the runner did not come up") }
        let direct = DirectRunner(socket: socket, bundle: bundle)
        let runnerSingle = LatencyCollector()
        try await direct.drive(client: 0, runs: runs, warmup: 20, into: runnerSingle)
        let perClient = max(4, runs / clients)

        // The whole product on the same runner.
        let port = try freePort()
        let data = work + "/control-plane"
        let environment = [
            "PATH": "/usr/bin:/bin", "AGENTGRID_DATA_DIR": data, "AGENTGRID_PORT": "\(port)", "AGENTGRID_RUNNERS": "unix://" + socket,
            "AGENTGRID_PROFILES": profiles, "AGENTGRID_BCRYPT_COST": "4", "AGENTGRID_LOG_LEVEL": "warning",
        ]
        let server = try start(agentgrid, ["serve"], log: work + "/control-plane.log", environment: environment)
        defer { stop(server) }
        let api = API(port: port)
        guard try await waitFor({ (try? await api.call(.get, "/health/ready").status) == .ok }) else {
            throw BenchError(message: "the control plane did not become ready: \(tail(work + "/control-plane.log"))")
        }
        let seeded = try await Seed.run(api: api, agentgrid: agentgrid, environment: environment, bundle: bundle,
                                        credits: (runs + 20 + rounds * clients * perClient) * 2)
        let e2eSingle = LatencyCollector()
        try await api.drive(seeded, runs: runs, warmup: 20, into: e2eSingle)

        // Throughput: the two paths take turns, so a change in the host's pace (it shares its
        // cores) falls on both rather than on whichever ran in that moment. Each rate is all of
        // its runs over all of its time.
        let runnerLoaded = LatencyCollector(), e2eLoaded = LatencyCollector()
        var runnerTotals = LoadedTotals(), e2eTotals = LoadedTotals()
        for round in 0..<rounds {
            let runnerCPU = CPUShares(runner: daemon.processIdentifier)
            let runnerElapsed = try await elapsed(clients: clients) { client in
                try await direct.drive(client: 1_000 * (round + 1) + client, runs: perClient, warmup: 0, into: runnerLoaded)
            }
            runnerTotals.add(runs: clients * perClient, microseconds: runnerElapsed, cpu: runnerCPU.total())
            let e2eCPU = CPUShares(runner: daemon.processIdentifier, controlPlane: server.processIdentifier)
            let e2eElapsed = try await elapsed(clients: clients) { _ in
                try await API(port: port).drive(seeded, runs: perClient, warmup: 0, into: e2eLoaded)
            }
            e2eTotals.add(runs: clients * perClient, microseconds: e2eElapsed, cpu: e2eCPU.total())
        }
        let runnerCPU = runnerTotals.cpuPerRun, e2eCPU = e2eTotals.cpuPerRun
        let runnerRate = runnerTotals.runsPerSecond, e2eRate = e2eTotals.runsPerSecond
        stop(server)
        let discrepancies = try ledgerDiscrepancies(agentgrid, environment: environment)

        let runnerSamples = runnerSingle.samples, e2eSamples = e2eSingle.samples
        print("trivial agent (/bin/sh main.sh printing {}), one runner with \(slots) slots, SQLite store")
        print("throughput: \(rounds) rounds of \(clients * perClient) runs on each path, taking turns")
        print("path                                         p50 ms    p99 ms")
        for (name, samples) in [("runner protocol, 1 client", runnerSamples), ("runner protocol, \(clients) clients", runnerLoaded.samples),
                                ("HTTP submit to completed, 1 client", e2eSamples), ("HTTP submit to completed, \(clients) clients", e2eLoaded.samples)] {
            print(name.padding(toLength: 43, withPad: " ", startingAt: 0) + String(format: "%8.3f  %8.3f", samples.p50, samples.p99))
        }
        print(String(format: "CPU ms per run under load: runner alone %.3f (its sandboxes included), clients %.3f; through the API: runner %.3f, control plane %.3f, clients %.3f",
                     runnerCPU.runner, runnerCPU.clients, e2eCPU.runner, e2eCPU.controlPlane, e2eCPU.clients))
        print(String(format: "runs/s with %d clients: through the API %.1f, runner alone %.1f (ratio %.2f); p50 gap %.3f ms; ledger discrepancies %d",
                     clients, e2eRate, runnerRate, e2eRate / runnerRate, e2eSamples.p50 - runnerSamples.p50, discrepancies))
        print(jsonLine([
            ("bench", "e2e"), ("e2e_p50_ms", rounded(e2eSamples.p50)), ("e2e_p99_ms", rounded(e2eSamples.p99)),
            ("runner_p50_ms", rounded(runnerSamples.p50)), ("e2e_runs_per_s", rounded(e2eRate, 1)),
            ("runner_runs_per_s", rounded(runnerRate, 1)), ("throughput_ratio", rounded(e2eRate / runnerRate)),
            ("ledger_discrepancies", discrepancies),
        ]))
    }

    /// CPU used by each side during a loaded phase, from its start.
    struct CPUShares {
        let runnerPID: Int32, controlPlanePID: Int32?
        let runnerStart: Int64, controlPlaneStart: Int64, clientsStart: Int64

        init(runner: Int32, controlPlane: Int32? = nil) {
            runnerPID = runner
            controlPlanePID = controlPlane
            runnerStart = ProcessCPU.microseconds(pid: runner)
            controlPlaneStart = controlPlane.map { ProcessCPU.microseconds(pid: $0) } ?? 0
            clientsStart = ProcessCPU.ownMicroseconds()
        }

        /// Microseconds of CPU since `init`.
        func total() -> (runner: Int64, controlPlane: Int64, clients: Int64) {
            (ProcessCPU.microseconds(pid: runnerPID) - runnerStart,
             controlPlanePID.map { ProcessCPU.microseconds(pid: $0) - controlPlaneStart } ?? 0,
             ProcessCPU.ownMicroseconds() - clientsStart)
        }
    }

    /// A loaded path's runs, time and CPU, summed over its rounds.
    struct LoadedTotals {
        var runs = 0
        var microseconds: Int64 = 0
        var cpu: (runner: Int64, controlPlane: Int64, clients: Int64) = (0, 0, 0)

        mutating func add(runs: Int, microseconds: Int64, cpu: (runner: Int64, controlPlane: Int64, clients: Int64)) {
            self.runs += runs
            self.microseconds += microseconds
            self.cpu = (self.cpu.runner + cpu.runner, self.cpu.controlPlane + cpu.controlPlane, self.cpu.clients + cpu.clients)
        }

        var runsPerSecond: Double { Double(runs) / (Double(microseconds) / 1_000_000) }

        /// Milliseconds of CPU per run.
        var cpuPerRun: (runner: Double, controlPlane: Double, clients: Double) {
            func ms(_ micros: Int64) -> Double { Double(micros) / Double(runs) / 1_000 }
            return (ms(cpu.runner), ms(cpu.controlPlane), ms(cpu.clients))
        }
    }

    /// Microseconds for `clients` concurrent tasks.
    static func elapsed(clients: Int, _ body: @escaping @Sendable (Int) async throws -> Void) async throws -> Int64 {
        let start = now()
        try await withThrowingTaskGroup(of: Void.self) { group in
            for client in 0..<clients { group.addTask { try await body(client) } }
            try await group.waitForAll()
        }
        return now() - start
    }

    static func waitFor(_ condition: @Sendable () async -> Bool) async throws -> Bool {
        for _ in 0..<1_000 {
            if await condition() { return true }
            try await Task.sleep(for: .milliseconds(20))
        }
        return false
    }

    static func start(_ executable: String, _ arguments: [String], log: String, environment: [String: String] = ["PATH": "/usr/bin:/bin"]) throws -> Process {
        _ = FileManager.default.createFile(atPath: log, contents: nil)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.environment = environment
        process.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
        process.standardError = process.standardOutput
        try process.run()
        return process
    }

    static func stop(_ process: Process) {
        guard process.isRunning else { return }
        process.terminate()
        process.waitUntilExit()
    }

    static func tail(_ path: String) -> String {
        String(((try? String(contentsOfFile: path, encoding: .utf8)) ?? "").suffix(2_000))
    }

    static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
        }
        guard bound else { throw BenchError(message: "no free port: errno \(errno)") }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    /// `agentgrid ledger verify`'s count: its exit status says whether there are any; its lines say how many.
    static func ledgerDiscrepancies(_ agentgrid: String, environment: [String: String]) throws -> Int {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: agentgrid)
        process.arguments = ["ledger", "verify"]
        process.environment = environment
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = FileHandle.standardError
        try process.run()
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        let found = output.split(separator: "\n").filter { $0.hasPrefix("discrepancy:") }.count
        guard process.terminationStatus == 0 || found > 0 else { throw BenchError(message: "ledger verify failed: \(output)") }
        return found
    }
}
