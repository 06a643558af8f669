import RunnerProtocol
import Sandbox

/// Between the wire types and the engine's.
extension RunRecord {
    init(_ result: RunResult) {
        self.init(
            outcome: result.outcome.rawValue, exitCode: result.exitCode, signal: result.signal,
            limitHit: result.limitHit, wallMicroseconds: result.wallMicroseconds,
            spawnMicroseconds: result.spawnMicroseconds,
            cpuMicroseconds: result.cpuMicroseconds, peakMemoryBytes: result.peakMemoryBytes,
            stdoutBytes: result.stdoutBytes, stderrBytes: result.stderrBytes,
            setupError: result.setupError.map {
                SetupError(step: $0.step, errno: $0.errno, errnoName: $0.errnoName, detail: $0.detail)
            },
            seccompSyscall: result.seccompSyscall, profile: result.profile)
    }

    /// A run that never got to the sandbox (cancelled in the queue, refused by the engine).
    static func notRun(_ outcome: RunResult.Outcome, profile: String, detail: String? = nil) -> RunRecord {
        RunRecord(
            outcome: outcome.rawValue,
            setupError: detail.map { SetupError(step: "engine", errno: 0, errnoName: "-", detail: $0) },
            profile: profile)
    }
}

extension LimitRequest {
    init(_ wire: RequestedLimits) {
        self.init(
            memoryBytes: wire.memoryBytes, pids: wire.pids, milliCPUs: wire.milliCPUs, cpuTimeMs: wire.cpuTimeMs,
            wallTimeMs: wire.wallTimeMs, stdoutBytes: wire.stdoutBytes, stderrBytes: wire.stderrBytes)
    }
}
