public enum ExecutionStatus: String, Sendable, CaseIterable {
    case pending, running, completed, failed, cancelled

    var isFinished: Bool { self == .completed || self == .failed || self == .cancelled }
}

/// How a run ended, one of the execution contract's outcomes.
public enum ExecutionOutcome: String, Sendable, CaseIterable {
    case completed, failed, timeout, oom, cancelled
    case seccompViolation = "seccomp_violation"
    case outputLimit = "output_limit"
    case runnerLost = "runner_lost"
}

/// An execution row: one paid run of an agent by a user.
public struct Execution: Sendable, Equatable {
    public var id: String
    public var agentID: String
    public var userID: String
    public var status: ExecutionStatus
    public var inputs: JSONValue
    public var outputs: JSONValue?
    public var errorMessage: String?
    public var priceMilli: Int64
    public var outcome: ExecutionOutcome?
    public var wallMs: Int64?
    public var cpuMs: Int64?
    public var peakMemoryBytes: Int64?
    public var exitCode: Int64?
    public var limitHit: String?
    public var bundleHash: String?
    public var runner: String?
    public var createdAt: Int64
    public var startedAt: Int64?
    public var completedAt: Int64?
    public var durationMs: Int64?

    var json: JSONValue {
        func time(_ micros: Int64?) -> JSONValue { micros.map { .string(Timestamp.iso8601($0)) } ?? .null }
        let usage: JSONValue = wallMs == nil && cpuMs == nil && peakMemoryBytes == nil ? .null : [
            "wall_ms": JSONValue(optional: wallMs), "cpu_ms": JSONValue(optional: cpuMs), "peak_memory_bytes": JSONValue(optional: peakMemoryBytes),
        ]
        return [
            "id": .string(id), "agent_id": .string(agentID), "user_id": .string(userID), "status": .string(status.rawValue),
            "inputs": inputs, "outputs": outputs ?? .null, "error_message": JSONValue(optional: errorMessage),
            // What the run costs the user: held while it runs, captured when it completes, nothing once refunded.
            "credits_used": .credits(status == .failed || status == .cancelled ? 0 : priceMilli), "outcome": JSONValue(optional: outcome?.rawValue), "usage": usage,
            "exit_code": JSONValue(optional: exitCode), "limit_hit": JSONValue(optional: limitHit), "bundle_hash": JSONValue(optional: bundleHash),
            "created_at": time(createdAt), "started_at": time(startedAt), "completed_at": time(completedAt),
            "duration_ms": JSONValue(optional: durationMs),
        ]
    }
}
