/// The runner protocol, version 1: what the control plane (or `agentgrid-runner submit`) and
/// a runner say to each other. Every message is one JSON object with a "type" key, carried in
/// one length-prefixed frame (see `FrameCodec`). The full contract is docs/runner-protocol.md.
public enum RunnerProtocol {
    /// Versions this build speaks, newest last. The hello picks the newest both sides know.
    public static let supportedVersions = [1]
    /// Largest frame either side accepts; a larger length prefix closes the connection.
    public static let defaultMaximumFrameBytes = 8 << 20
}

/// Client → runner.
public enum ClientMessage: Sendable, Equatable {
    case hello(Hello)
    case execute(ExecuteRequest)
    case cancel(runID: String)
    /// The result of a run submitted on another (perhaps lost) connection.
    case collect(runID: String)
    case status
    case drain
}

/// Runner → client.
public enum RunnerMessage: Sendable, Equatable {
    case welcome(Welcome)
    /// The run is admitted; `queuePosition` 0 means it starts now.
    case accepted(runID: String, queuePosition: Int)
    case rejected(runID: String, reason: RejectReason, detail: String)
    case started(runID: String)
    case log(LogChunk)
    case finished(runID: String, record: RunRecord, stdout: [UInt8])
    case status(StatusReport)
    /// The peer broke the protocol; the runner closes the connection after sending it.
    case error(message: String)
}

public struct Hello: Sendable, Equatable {
    public var versions: [Int]
    public var client: String
    public init(versions: [Int] = RunnerProtocol.supportedVersions, client: String) {
        self.versions = versions
        self.client = client
    }
}

public struct Welcome: Sendable, Equatable {
    public var version: Int
    public var runnerVersion: String
    public init(version: Int, runnerVersion: String) {
        self.version = version
        self.runnerVersion = runnerVersion
    }
}

public enum RejectReason: String, Sendable, Equatable {
    case busy
    case unknownProfile = "unknown_profile"
    case limitAboveCeiling = "limit_above_ceiling"
    case badBundle = "bad_bundle"
    case badRequest = "bad_request"
    case draining
    case duplicateRunID = "duplicate_run_id"
}

public struct ExecuteRequest: Sendable, Equatable {
    public struct Variable: Sendable, Equatable {
        public var name: String
        public var value: String
        public init(name: String, value: String) {
            self.name = name
            self.value = value
        }
    }

    /// Chosen by the client, unique among its live runs (a UUID).
    public var runID: String
    public var profile: String
    public var arguments: [String]
    public var environment: [Variable]
    /// Requested limits, each optional (the profile's default otherwise).
    public var limits: RequestedLimits
    public var stdin: [UInt8]
    /// Send stdout and stderr as `log` messages while the run goes.
    public var streamLogs: Bool
    /// With `streamLogs`, stdout too; false for a client that reads stdout from `finished` alone
    /// (it would otherwise cross the connection twice).
    public var streamStdout: Bool
    /// The agent's code, mounted read-only at /agent; nil runs argv against the profile alone.
    public var bundle: BundleReference?

    public init(runID: String, profile: String, arguments: [String], environment: [Variable] = [],
                limits: RequestedLimits = RequestedLimits(), stdin: [UInt8] = [], streamLogs: Bool = true,
                streamStdout: Bool = true, bundle: BundleReference? = nil) {
        self.streamStdout = streamStdout
        self.bundle = bundle
        self.runID = runID
        self.profile = profile
        self.arguments = arguments
        self.environment = environment
        self.limits = limits
        self.stdin = stdin
        self.streamLogs = streamLogs
    }
}

/// A content-addressed bundle: its SHA-256, and the .tar.gz itself the first time (a runner
/// keeps bundles it has unpacked, so later runs send the hash alone).
public struct BundleReference: Sendable, Equatable {
    /// Lowercase hex SHA-256 of the .tar.gz bytes.
    public var sha256: String
    public var data: [UInt8]?

    public init(sha256: String, data: [UInt8]? = nil) {
        self.sha256 = sha256
        self.data = data
    }
}

/// Limits a request asks for, in the runner's units; nil keeps the profile's default.
public struct RequestedLimits: Sendable, Equatable {
    public var memoryBytes: Int64?
    public var pids: Int64?
    public var milliCPUs: Int64?
    public var cpuTimeMs: Int64?
    public var wallTimeMs: Int64?
    public var stdoutBytes: Int64?
    public var stderrBytes: Int64?

    public init(memoryBytes: Int64? = nil, pids: Int64? = nil, milliCPUs: Int64? = nil, cpuTimeMs: Int64? = nil,
                wallTimeMs: Int64? = nil, stdoutBytes: Int64? = nil, stderrBytes: Int64? = nil) {
        self.memoryBytes = memoryBytes
        self.pids = pids
        self.milliCPUs = milliCPUs
        self.cpuTimeMs = cpuTimeMs
        self.wallTimeMs = wallTimeMs
        self.stdoutBytes = stdoutBytes
        self.stderrBytes = stderrBytes
    }
}

public struct LogChunk: Sendable, Equatable {
    public var runID: String
    /// "stdout" or "stderr".
    public var stream: String
    /// Per run and stream, from 0, no gaps: a reader can tell a lost chunk.
    public var sequence: Int
    public var data: [UInt8]

    public init(runID: String, stream: String, sequence: Int, data: [UInt8]) {
        self.runID = runID
        self.stream = stream
        self.sequence = sequence
        self.data = data
    }
}

/// The sandbox's result record, as the wire carries it (the same keys as `exec --json`).
public struct RunRecord: Sendable, Equatable {
    public struct SetupError: Sendable, Equatable {
        public var step: String
        public var errno: Int32
        public var errnoName: String
        public var detail: String?
        public init(step: String, errno: Int32, errnoName: String, detail: String?) {
            self.step = step
            self.errno = errno
            self.errnoName = errnoName
            self.detail = detail
        }
    }

    public var outcome: String
    public var exitCode: Int32?
    public var signal: Int32?
    public var limitHit: String?
    public var wallMicroseconds: Int64
    public var spawnMicroseconds: Int64
    public var cpuMicroseconds: Int64
    public var peakMemoryBytes: Int64
    public var stdoutBytes: Int64
    public var stderrBytes: Int64
    public var setupError: SetupError?
    public var seccompSyscall: String?
    public var profile: String

    public init(outcome: String, exitCode: Int32? = nil, signal: Int32? = nil, limitHit: String? = nil,
                wallMicroseconds: Int64 = 0, spawnMicroseconds: Int64 = 0, cpuMicroseconds: Int64 = 0,
                peakMemoryBytes: Int64 = 0, stdoutBytes: Int64 = 0, stderrBytes: Int64 = 0,
                setupError: SetupError? = nil, seccompSyscall: String? = nil, profile: String) {
        self.spawnMicroseconds = spawnMicroseconds
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
    }

}

public struct StatusReport: Sendable, Equatable {
    public var runnerVersion: String
    public var slots: Int
    public var slotsBusy: Int
    public var queueCapacity: Int
    public var queueDepth: Int
    public var profiles: [String]
    public var draining: Bool
    public var quarantinedSlots: Int
    public var hostSafe: Bool

    public init(runnerVersion: String, slots: Int, slotsBusy: Int, queueCapacity: Int, queueDepth: Int,
                profiles: [String], draining: Bool, quarantinedSlots: Int, hostSafe: Bool) {
        self.runnerVersion = runnerVersion
        self.slots = slots
        self.slotsBusy = slotsBusy
        self.queueCapacity = queueCapacity
        self.queueDepth = queueDepth
        self.profiles = profiles
        self.draining = draining
        self.quarantinedSlots = quarantinedSlots
        self.hostSafe = hostSafe
    }
}
