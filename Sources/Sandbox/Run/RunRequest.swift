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
    /// Called once the run has a slot, right before its sandbox is built (a run can wait for one).
    public var onSlotAcquired: (@Sendable () -> Void)?
    /// A place in the slot line taken earlier with `SandboxEngine.placeInLine()`, used up by
    /// this run; nil takes a place when the run reaches the engine.
    public var slotTicket: SlotTicket?

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
