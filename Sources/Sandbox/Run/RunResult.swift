/// Exactly what happened to one run.
public struct RunResult: Sendable, Codable, Equatable {
    public enum Outcome: String, Sendable, Codable {
        case completed
        case failed
        case timeout
        case oom
        case seccompViolation = "seccomp_violation"
        case outputLimit = "output_limit"
        case cancelled
        /// The sandbox could not be built; `setupError` says which step and why. The program
        /// never ran.
        case setupError = "setup_error"
    }

    public var outcome: Outcome
    /// The program's exit status, when it exited.
    public var exitCode: Int32?
    /// The signal that ended the program, when one did.
    public var signal: Int32?
    /// For `timeout`: "wall" or "cpu". For `output_limit`: "stdout" or "stderr".
    public var limitHit: String?
    public var wallMicroseconds: Int64
    /// From clone to the program's execve: the sandbox's own start-up.
    public var spawnMicroseconds: Int64 = 0
    public var cpuMicroseconds: Int64
    public var peakMemoryBytes: Int64
    /// Bytes the program wrote (kept up to the cap; a write past it ends the run).
    public var stdoutBytes: Int64
    public var stderrBytes: Int64
    public var setupError: SetupFailure?
    /// For `seccomp_violation`: the syscall, when the kernel's audit record names it.
    public var seccompSyscall: String?
    public var profile: String
    public var limits: ResolvedLimits
    /// Captured output (not part of the JSON record).
    public var stdout: [UInt8]
    public var stderr: [UInt8]

    public var wallMs: Int64 { wallMicroseconds / 1_000 }
    public var cpuMs: Int64 { cpuMicroseconds / 1_000 }

    enum CodingKeys: String, CodingKey {
        case outcome, exitCode = "exit_code", signal, limitHit = "limit_hit"
        case wallMs = "wall_ms", wallMicroseconds = "wall_us", spawnMicroseconds = "spawn_us", cpuMs = "cpu_ms", cpuMicroseconds = "cpu_us"
        case peakMemoryBytes = "peak_memory_bytes", stdoutBytes = "stdout_bytes", stderrBytes = "stderr_bytes"
        case setupError = "setup_error", seccompSyscall = "seccomp_syscall", profile, limits
    }

    public init(
        outcome: Outcome, exitCode: Int32? = nil, signal: Int32? = nil, limitHit: String? = nil,
        wallMicroseconds: Int64 = 0, cpuMicroseconds: Int64 = 0, peakMemoryBytes: Int64 = 0,
        stdoutBytes: Int64 = 0, stderrBytes: Int64 = 0, setupError: SetupFailure? = nil,
        seccompSyscall: String? = nil, profile: String, limits: ResolvedLimits,
        stdout: [UInt8] = [], stderr: [UInt8] = []
    ) {
        self.outcome = outcome
        self.exitCode = exitCode
        self.signal = signal
        self.limitHit = limitHit
        self.wallMicroseconds = wallMicroseconds
        self.cpuMicroseconds = cpuMicroseconds
        self.peakMemoryBytes = peakMemoryBytes
        self.stdoutBytes = stdoutBytes
        self.stderrBytes = stderrBytes
        self.setupError = setupError
        self.seccompSyscall = seccompSyscall
        self.profile = profile
        self.limits = limits
        self.stdout = stdout
        self.stderr = stderr
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        outcome = try c.decode(Outcome.self, forKey: .outcome)
        exitCode = try c.decodeIfPresent(Int32.self, forKey: .exitCode)
        signal = try c.decodeIfPresent(Int32.self, forKey: .signal)
        limitHit = try c.decodeIfPresent(String.self, forKey: .limitHit)
        wallMicroseconds = try c.decode(Int64.self, forKey: .wallMicroseconds)
        spawnMicroseconds = try c.decodeIfPresent(Int64.self, forKey: .spawnMicroseconds) ?? 0
        cpuMicroseconds = try c.decode(Int64.self, forKey: .cpuMicroseconds)
        peakMemoryBytes = try c.decode(Int64.self, forKey: .peakMemoryBytes)
        stdoutBytes = try c.decode(Int64.self, forKey: .stdoutBytes)
        stderrBytes = try c.decode(Int64.self, forKey: .stderrBytes)
        setupError = try c.decodeIfPresent(SetupFailure.self, forKey: .setupError)
        seccompSyscall = try c.decodeIfPresent(String.self, forKey: .seccompSyscall)
        profile = try c.decode(String.self, forKey: .profile)
        limits = try c.decode(ResolvedLimits.self, forKey: .limits)
        stdout = []
        stderr = []
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(outcome, forKey: .outcome)
        try c.encode(exitCode, forKey: .exitCode)
        try c.encode(signal, forKey: .signal)
        try c.encode(limitHit, forKey: .limitHit)
        try c.encode(wallMs, forKey: .wallMs)
        try c.encode(wallMicroseconds, forKey: .wallMicroseconds)
        try c.encode(spawnMicroseconds, forKey: .spawnMicroseconds)
        try c.encode(cpuMs, forKey: .cpuMs)
        try c.encode(cpuMicroseconds, forKey: .cpuMicroseconds)
        try c.encode(peakMemoryBytes, forKey: .peakMemoryBytes)
        try c.encode(stdoutBytes, forKey: .stdoutBytes)
        try c.encode(stderrBytes, forKey: .stderrBytes)
        try c.encode(setupError, forKey: .setupError)
        try c.encode(seccompSyscall, forKey: .seccompSyscall)
        try c.encode(profile, forKey: .profile)
        try c.encode(limits, forKey: .limits)
    }
}

/// Which step of building the sandbox failed, and why.
public struct SetupFailure: Sendable, Codable, Equatable, CustomStringConvertible {
    /// The step's name (`mount`, `pivot_root`, `execve`, …).
    public var step: String
    public var errno: Int32
    public var errnoName: String
    /// What the step was working on (a mount target, an rlimit, the program path).
    public var detail: String?

    enum CodingKeys: String, CodingKey {
        case step, errno, errnoName = "errno_name", detail
    }

    public var description: String {
        "sandbox setup failed at \(step)\(detail.map { " (\($0))" } ?? ""): \(errnoName)"
    }
}
