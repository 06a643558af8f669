import RunnerProtocol

/// How an execution ends, in the API's terms: derived from the runner's result record and the
/// agent's stdout, or decided by the control plane (cancelled while queued, runner lost).
struct RunEnding: Sendable, Equatable {
    var status: ExecutionStatus
    var outcome: ExecutionOutcome
    var outputs: JSONValue?
    var errorMessage: String?
    var wallMs: Int64?
    var cpuMs: Int64?
    var peakMemoryBytes: Int64?
    var exitCode: Int64?
    var limitHit: String?
    var logs: String?

    static func cancelledBeforeStart() -> RunEnding {
        RunEnding(status: .cancelled, outcome: .cancelled, errorMessage: "Cancelled before it started")
    }

    static func runnerLost(_ why: String) -> RunEnding {
        RunEnding(status: .failed, outcome: .runnerLost, errorMessage: "The runner was lost: \(why)")
    }

    static func refused(_ detail: String) -> RunEnding {
        RunEnding(status: .failed, outcome: .failed, errorMessage: "The runner refused the run: \(detail)")
    }

    /// The execution contract: exit 0 with one JSON document on stdout (matching the output
    /// schema, when the bundle has one) is success; everything else fails with a reason.
    static func from(record: RunRecord, stdout: [UInt8], logs: String, outputSchema: OutputSchema?) -> RunEnding {
        var ending = RunEnding(
            status: .failed, outcome: .failed,
            wallMs: record.wallMicroseconds / 1_000, cpuMs: record.cpuMicroseconds / 1_000,
            peakMemoryBytes: record.peakMemoryBytes, exitCode: record.exitCode.map(Int64.init),
            limitHit: record.limitHit, logs: logs)
        switch record.outcome {
        case "completed":
            let outputs: JSONValue
            do {
                guard !stdout.allSatisfy(isSpace) else {
                    ending.errorMessage = "The agent wrote no output (it must print one JSON document on stdout)"
                    return ending
                }
                outputs = try JSONParser.parse(stdout)
            } catch {
                ending.errorMessage = "The agent's output is not valid JSON: \(error)"
                return ending
            }
            if let violations = outputSchema?.violations(of: outputs), !violations.isEmpty {
                ending.errorMessage = "The agent's output does not match its output schema: " + violations.joined(separator: "; ")
                return ending
            }
            ending.status = .completed
            ending.outcome = .completed
            ending.outputs = outputs
        case "failed":
            ending.errorMessage = record.signal.map { "The agent was killed by signal \($0)" }
                ?? "The agent exited with status \(record.exitCode.map(String.init) ?? "?")"
        case "timeout":
            ending.outcome = .timeout
            ending.errorMessage = "The run exceeded its \(record.limitHit == "cpu_time" ? "CPU time" : "time") limit"
        case "oom":
            ending.outcome = .oom
            ending.errorMessage = "The run exceeded its memory limit"
        case "seccomp_violation":
            ending.outcome = .seccompViolation
            ending.errorMessage = "The agent made a system call its profile forbids" + (record.seccompSyscall.map { ": \($0)" } ?? "")
        case "output_limit":
            ending.outcome = .outputLimit
            ending.errorMessage = "The agent's output exceeded its limit" + (record.limitHit.map { " (\($0))" } ?? "")
        case "cancelled":
            ending.status = .cancelled
            ending.outcome = .cancelled
            ending.errorMessage = "Cancelled"
        default:
            // setup_error, or an outcome newer than this build: the program did not run as asked.
            let setup = record.setupError.map { "\($0.step) (\($0.errnoName))" + ($0.detail.map { ": \($0)" } ?? "") }
            ending.errorMessage = "The sandbox could not run the agent: " + (setup ?? record.outcome)
        }
        return ending
    }
}
