/// Every resource limit of a run, one `Value` each: a profile's default and ceiling
/// (`LimitPolicy`), what a request asks for (`LimitRequest`), what a run gets (`ResolvedLimits`).
public struct ResourceLimits<Value: Sendable & Equatable>: Sendable, Equatable {
    /// Memory (RAM + tmpfs pages + kernel memory charged to the run), bytes. No swap.
    public var memoryBytes: Value
    /// Processes and threads alive at once.
    public var pids: Value
    /// CPU bandwidth in thousandths of a CPU (500 = half a core).
    public var milliCPUs: Value
    /// CPU time the whole run may consume, milliseconds.
    public var cpuTimeMs: Value
    /// Wall-clock time from start to kill, milliseconds (monotonic clock).
    public var wallTimeMs: Value
    /// Bytes of stdout kept; one byte more ends the run as `output_limit`.
    public var stdoutBytes: Value
    /// Bytes of stderr kept; one byte more ends the run as `output_limit`.
    public var stderrBytes: Value
    /// Size of each writable tmpfs (`/tmp`, the working directory), bytes.
    public var tmpfsBytes: Value
    /// RLIMIT_NOFILE.
    public var openFiles: Value
    /// RLIMIT_FSIZE: the largest file the program may write, bytes.
    public var fileSizeBytes: Value
    /// RLIMIT_STACK, bytes.
    public var stackBytes: Value

    public init(
        memoryBytes: Value, pids: Value, milliCPUs: Value, cpuTimeMs: Value, wallTimeMs: Value,
        stdoutBytes: Value, stderrBytes: Value, tmpfsBytes: Value, openFiles: Value,
        fileSizeBytes: Value, stackBytes: Value
    ) {
        self.memoryBytes = memoryBytes
        self.pids = pids
        self.milliCPUs = milliCPUs
        self.cpuTimeMs = cpuTimeMs
        self.wallTimeMs = wallTimeMs
        self.stdoutBytes = stdoutBytes
        self.stderrBytes = stderrBytes
        self.tmpfsBytes = tmpfsBytes
        self.openFiles = openFiles
        self.fileSizeBytes = fileSizeBytes
        self.stackBytes = stackBytes
    }
}

/// A profile's limits: each with its default and its ceiling.
public typealias LimitPolicy = ResourceLimits<Bounded<Int64>>
/// Requested limits; each nil falls back to the profile's default.
public typealias LimitRequest = ResourceLimits<Int64?>
/// The limits a run actually gets: the request within the profile's ceilings.
public typealias ResolvedLimits = ResourceLimits<Int64>

extension ResourceLimits where Value == Int64? {
    public init(
        memoryBytes: Int64? = nil, pids: Int64? = nil, milliCPUs: Int64? = nil,
        cpuTimeMs: Int64? = nil, wallTimeMs: Int64? = nil, stdoutBytes: Int64? = nil,
        stderrBytes: Int64? = nil, tmpfsBytes: Int64? = nil, openFiles: Int64? = nil,
        fileSizeBytes: Int64? = nil, stackBytes: Int64? = nil
    ) {
        // The same assignments as the memberwise init: delegating to it would pick this
        // more specific overload again.
        self.memoryBytes = memoryBytes
        self.pids = pids
        self.milliCPUs = milliCPUs
        self.cpuTimeMs = cpuTimeMs
        self.wallTimeMs = wallTimeMs
        self.stdoutBytes = stdoutBytes
        self.stderrBytes = stderrBytes
        self.tmpfsBytes = tmpfsBytes
        self.openFiles = openFiles
        self.fileSizeBytes = fileSizeBytes
        self.stackBytes = stackBytes
    }
}

extension ResourceLimits where Value == Bounded<Int64> {
    /// The request where it names a limit, the default where not; never above a ceiling. Field
    /// by field (not through key paths): this runs for every run, on the daemon's hot path.
    public func resolve(_ request: LimitRequest) throws(LimitError) -> ResolvedLimits {
        /// `name`: as operators see the limit in profiles and errors.
        func pick(_ bound: Bounded<Int64>, _ requested: Int64?, _ name: String) throws(LimitError) -> Int64 {
            guard let requested else { return bound.defaultValue }
            guard requested > 0, requested <= bound.ceiling else {
                throw LimitError(limit: name, requested: requested, ceiling: bound.ceiling)
            }
            return requested
        }
        return ResolvedLimits(
            memoryBytes: try pick(memoryBytes, request.memoryBytes, "memory"),
            pids: try pick(pids, request.pids, "pids"),
            milliCPUs: try pick(milliCPUs, request.milliCPUs, "cpus (milli-CPUs)"),
            cpuTimeMs: try pick(cpuTimeMs, request.cpuTimeMs, "cpu_time (ms)"),
            wallTimeMs: try pick(wallTimeMs, request.wallTimeMs, "wall_time (ms)"),
            stdoutBytes: try pick(stdoutBytes, request.stdoutBytes, "stdout"),
            stderrBytes: try pick(stderrBytes, request.stderrBytes, "stderr"),
            tmpfsBytes: try pick(tmpfsBytes, request.tmpfsBytes, "tmpfs"),
            openFiles: try pick(openFiles, request.openFiles, "open_files"),
            fileSizeBytes: try pick(fileSizeBytes, request.fileSizeBytes, "file_size"),
            stackBytes: try pick(stackBytes, request.stackBytes, "stack"))
    }
}

extension ResourceLimits: Codable where Value: Codable {
    enum CodingKeys: String, CodingKey {
        case memoryBytes = "memory_bytes", pids, milliCPUs = "milli_cpus", cpuTimeMs = "cpu_time_ms"
        case wallTimeMs = "wall_time_ms", stdoutBytes = "stdout_bytes", stderrBytes = "stderr_bytes"
        case tmpfsBytes = "tmpfs_bytes", openFiles = "open_files", fileSizeBytes = "file_size_bytes"
        case stackBytes = "stack_bytes"
    }
}
