/// One program to run under a profile, with what the caller may choose within it.
public struct RunRequest: Sendable {
    public enum Input: Sendable, Equatable {
        /// /dev/null
        case none
        case bytes([UInt8])
        /// A host file, opened by the engine and handed over as descriptor 0.
        case file(String)
    }

    /// argv; argv[0] is searched in the sandbox's PATH when it has no slash.
    public var arguments: [String]
    /// Added to (and overriding) the profile's environment.
    public var environment: [EnvironmentVariable]
    public var input: Input
    /// Limits below the profile's ceilings; nil keeps the profile's default.
    public var limits: LimitRequest
    /// Extra host paths visible read-only (`--ro-bind`).
    public var readOnlyBinds: [PathMapping]
    /// Extra host paths visible read-write (`--bind`): writes land on the host as the slot's uid.
    public var writableBinds: [PathMapping]
    /// An unpacked agent bundle, mounted read-only at /agent.
    public var bundleDirectory: String?
    /// Overrides the profile's working directory (e.g. /agent for a bundle).
    public var workingDirectory: String?
    /// Receives stdout and stderr as they arrive (log streaming); called on the run's thread.
    public var outputHandler: (@Sendable (OutputStream, [UInt8]) -> Void)?

    public init(
        arguments: [String], environment: [EnvironmentVariable] = [], input: Input = .none,
        limits: LimitRequest = LimitRequest(), readOnlyBinds: [PathMapping] = [],
        writableBinds: [PathMapping] = [], bundleDirectory: String? = nil,
        workingDirectory: String? = nil,
        outputHandler: (@Sendable (OutputStream, [UInt8]) -> Void)? = nil
    ) {
        self.arguments = arguments
        self.environment = environment
        self.input = input
        self.limits = limits
        self.readOnlyBinds = readOnlyBinds
        self.writableBinds = writableBinds
        self.bundleDirectory = bundleDirectory
        self.workingDirectory = workingDirectory
        self.outputHandler = outputHandler
    }
}

public enum OutputStream: String, Sendable, Codable {
    case stdout, stderr
}

/// Requested limits; each nil falls back to the profile's default.
public struct LimitRequest: Sendable, Equatable {
    public var memoryBytes: Int64?
    public var pids: Int64?
    public var milliCPUs: Int64?
    public var cpuTimeMs: Int64?
    public var wallTimeMs: Int64?
    public var stdoutBytes: Int64?
    public var stderrBytes: Int64?
    public var tmpfsBytes: Int64?
    public var openFiles: Int64?
    public var fileSizeBytes: Int64?
    public var stackBytes: Int64?

    public init(
        memoryBytes: Int64? = nil, pids: Int64? = nil, milliCPUs: Int64? = nil,
        cpuTimeMs: Int64? = nil, wallTimeMs: Int64? = nil, stdoutBytes: Int64? = nil,
        stderrBytes: Int64? = nil, tmpfsBytes: Int64? = nil, openFiles: Int64? = nil,
        fileSizeBytes: Int64? = nil, stackBytes: Int64? = nil
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

/// The limits a run actually gets: the request within the profile's ceilings.
public struct ResolvedLimits: Sendable, Equatable, Codable {
    public var memoryBytes: Int64
    public var pids: Int64
    public var milliCPUs: Int64
    public var cpuTimeMs: Int64
    public var wallTimeMs: Int64
    public var stdoutBytes: Int64
    public var stderrBytes: Int64
    public var tmpfsBytes: Int64
    public var openFiles: Int64
    public var fileSizeBytes: Int64
    public var stackBytes: Int64

    enum CodingKeys: String, CodingKey {
        case memoryBytes = "memory_bytes", pids, milliCPUs = "milli_cpus", cpuTimeMs = "cpu_time_ms"
        case wallTimeMs = "wall_time_ms", stdoutBytes = "stdout_bytes", stderrBytes = "stderr_bytes"
        case tmpfsBytes = "tmpfs_bytes", openFiles = "open_files", fileSizeBytes = "file_size_bytes"
        case stackBytes = "stack_bytes"
    }
}

/// A requested limit the profile does not permit.
public struct LimitError: Error, CustomStringConvertible, Sendable, Equatable {
    public var limit: String
    public var requested: Int64
    public var ceiling: Int64
    public var description: String {
        requested <= 0
            ? "\(limit): \(requested) must be positive"
            : "\(limit): \(requested) exceeds the profile's ceiling of \(ceiling)"
    }
}

extension LimitPolicy {
    public func resolve(_ request: LimitRequest) throws(LimitError) -> ResolvedLimits {
        func pick(_ name: String, _ value: Int64?, _ bound: Bounded<Int64>) throws(LimitError) -> Int64 {
            guard let value else { return bound.defaultValue }
            guard value > 0, value <= bound.ceiling else {
                throw LimitError(limit: name, requested: value, ceiling: bound.ceiling)
            }
            return value
        }
        return ResolvedLimits(
            memoryBytes: try pick("memory", request.memoryBytes, memoryBytes),
            pids: try pick("pids", request.pids, pids),
            milliCPUs: try pick("cpus (milli-CPUs)", request.milliCPUs, milliCPUs),
            cpuTimeMs: try pick("cpu_time (ms)", request.cpuTimeMs, cpuTimeMs),
            wallTimeMs: try pick("wall_time (ms)", request.wallTimeMs, wallTimeMs),
            stdoutBytes: try pick("stdout", request.stdoutBytes, stdoutBytes),
            stderrBytes: try pick("stderr", request.stderrBytes, stderrBytes),
            tmpfsBytes: try pick("tmpfs", request.tmpfsBytes, tmpfsBytes),
            openFiles: try pick("open_files", request.openFiles, openFiles),
            fileSizeBytes: try pick("file_size", request.fileSizeBytes, fileSizeBytes),
            stackBytes: try pick("stack", request.stackBytes, stackBytes))
    }
}
