import Foundation
import Testing
@testable import Sandbox

/// Each limit ends the run with its own outcome, promptly, and with usage measured.
@Suite struct LimitEnforcementTests {
    @Test func memoryHogEndsAsOOM() async throws {
        let result = try await Fixture.run(["/probe", "memory-hog"], limits: LimitRequest(memoryBytes: 32 << 20))
        #expect(result.outcome == .oom, "\(result.outcome) \(result.output)")
        #expect(result.peakMemoryBytes > 16 << 20 && result.peakMemoryBytes <= 40 << 20, "peak \(result.peakMemoryBytes)")
    }

    @Test func cpuSpinEndsAsCPUTimeout() async throws {
        let result = try await Fixture.run(
            ["/probe", "spin"], limits: LimitRequest(milliCPUs: 1_000, cpuTimeMs: 300, wallTimeMs: 10_000))
        #expect(result.outcome == .timeout)
        #expect(result.limitHit == "cpu")
        // Promptness is measured in CPU time: the overshoot past the limit stays small. Wall time
        // depends on how busy the host is (the test suite runs in parallel on two cores), so it is
        // only checked to be well short of the wall limit.
        #expect(result.cpuMs >= 300 && result.cpuMs < 600, "cpu \(result.cpuMs) ms")
        #expect(result.wallMs < 6_000, "wall \(result.wallMs) ms")
    }

    @Test func cpuQuotaThrottlesBeforeTheCPULimit() async throws {
        // At a quarter of a CPU, 200 ms of CPU time takes about 800 ms of wall time.
        let result = try await Fixture.run(
            ["/probe", "spin"], limits: LimitRequest(milliCPUs: 250, cpuTimeMs: 200, wallTimeMs: 10_000))
        #expect(result.outcome == .timeout && result.limitHit == "cpu")
        #expect(result.wallMs >= 500, "wall \(result.wallMs) ms")
    }

    @Test func sleepEndsAtTheWallTimeout() async throws {
        let result = try await Fixture.run(["/bin/sleep", "10"], limits: LimitRequest(wallTimeMs: 500))
        #expect(result.outcome == .timeout)
        #expect(result.limitHit == "wall")
        // The lower bound is exact; the upper one leaves room for a loaded host.
        #expect(result.wallMs >= 500 && result.wallMs < 1_500, "wall \(result.wallMs) ms")
    }

    @Test func gigabyteStdoutFloodEndsAsOutputLimitKeepingTheCap() async throws {
        let result = try await Fixture.run(["/bin/sh", "-c", "head -c 1073741824 /dev/zero"],
                                           limits: LimitRequest(stdoutBytes: 65_536))
        #expect(result.outcome == .outputLimit)
        #expect(result.limitHit == "stdout")
        #expect(result.stdout.count == 65_536 && result.stdoutBytes == 65_536)
        #expect(result.wallMs < 5_000, "wall \(result.wallMs) ms")
    }

    @Test func stderrHasItsOwnCap() async throws {
        let result = try await Fixture.run(["/bin/sh", "-c", "echo fine; yes error >&2"], limits: LimitRequest(stderrBytes: 1_000))
        #expect(result.outcome == .outputLimit && result.limitHit == "stderr")
        #expect(result.stderr.count == 1_000)
        #expect(result.output == "fine\n")
    }

    @Test func stdinFromABufferAndFromAFile() async throws {
        let payload = Array(String(repeating: "agentgrid ", count: 20_000).utf8)  // bigger than a pipe
        let buffered = try await Fixture.run(["/bin/cat"], input: .bytes(payload))
        #expect(buffered.stdout == payload)
        let path = NSTemporaryDirectory() + "agentgrid-stdin-\(getpid())"
        try "from a file\n".write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let fromFile = try await Fixture.run(["/usr/bin/wc", "-c"], input: .file(path))
        #expect(fromFile.output.trimmingCharacters(in: .whitespacesAndNewlines) == "12")
    }

    @Test func stdinLargerThanWhatTheProgramReadsIsNotAProblem() async throws {
        // The program exits without reading: the supervisor's writes hit EPIPE, and it carries on.
        let result = try await Fixture.run(["/bin/true"], input: .bytes([UInt8](repeating: 65, count: 4 << 20)))
        #expect(result.outcome == .completed)
    }

    @Test func exitCodesAndSignalsAreReported() async throws {
        let exited = try await Fixture.run(["/bin/sh", "-c", "exit 3"])
        #expect(exited.outcome == .failed && exited.exitCode == 3 && exited.signal == nil)
        // The program is pid 1 of its namespace, so only kernel-sent signals (a fault, our
        // SIGKILL) end it; a fault is reported as the signal, not an exit code.
        let signalled = try await Fixture.run(["/probe", "segv"])
        #expect(signalled.outcome == .failed && signalled.signal == 11 && signalled.exitCode == nil)
        let completed = try await Fixture.run(["/bin/true"])
        #expect(completed.outcome == .completed && completed.exitCode == 0)
        #expect(completed.wallMicroseconds > 0 && completed.wallMicroseconds < 1_000_000)
    }

    @Test func requestsAboveTheCeilingAreRefusedBeforeAnythingRuns() async throws {
        await #expect(throws: SandboxError.self) {
            _ = try await Fixture.run(["/bin/true"], limits: LimitRequest(memoryBytes: 1 << 40))
        }
    }

    @Test func missingProgramIsASetupErrorAtExecve() async throws {
        let result = try await Fixture.run(["/no/such/program"])
        #expect(result.outcome == .setupError)
        #expect(result.setupError?.step == "execve")
        #expect(result.setupError?.errnoName == "ENOENT")
    }
}
