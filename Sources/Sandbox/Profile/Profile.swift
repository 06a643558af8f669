/// An operator-tuned sandbox profile: what a run may see, use and call.
///
/// Profiles are loaded from YAML (`ProfileLoader`) and validated as a whole before any run
/// uses them; a `Profile` value is therefore always internally consistent (every default is
/// within its ceiling, every path is absolute, no forbidden syscall is allowed).
public struct Profile: Sendable, Equatable {
    /// The profile's name, as requests refer to it (`default`, `python`, …).
    public var name: String
    /// One line for operators: what this profile is for.
    public var description: String
    /// The file the profile was loaded from, for messages; nil for profiles built in code.
    public var sourcePath: String?
    public var limits: LimitPolicy
    public var filesystem: FilesystemPolicy
    /// The complete environment of the program, in order. Nothing of the caller's leaks in.
    public var environment: [EnvironmentVariable]
    /// Run inside a new user namespace as well (the sandbox uid is mapped to the slot's
    /// unprivileged host uid; never to host root).
    public var userNamespace: Bool
    /// The hostname the program sees in its own UTS namespace.
    public var hostname: String
    public var seccomp: SeccompPolicy
    /// Non-fatal notes from loading, for operators (e.g. OCI seccomp entries that were skipped).
    public var warnings: [String]

    public init(
        name: String, description: String = "", sourcePath: String? = nil,
        limits: LimitPolicy, filesystem: FilesystemPolicy, environment: [EnvironmentVariable],
        userNamespace: Bool = false, hostname: String = "sandbox", seccomp: SeccompPolicy,
        warnings: [String] = []
    ) {
        self.name = name
        self.description = description
        self.sourcePath = sourcePath
        self.limits = limits
        self.filesystem = filesystem
        self.environment = environment
        self.userNamespace = userNamespace
        self.hostname = hostname
        self.seccomp = seccomp
        self.warnings = warnings
    }
}

public struct EnvironmentVariable: Sendable, Equatable {
    public var name: String
    public var value: String
    public init(name: String, value: String) {
        self.name = name
        self.value = value
    }
}

/// A limit's value when a request does not name one, and the most a request may ask for.
public struct Bounded<Value: Comparable & Sendable & Equatable>: Sendable, Equatable {
    public var defaultValue: Value
    public var ceiling: Value
    public init(defaultValue: Value, ceiling: Value) {
        self.defaultValue = defaultValue
        self.ceiling = ceiling
    }
}

/// What the program's fresh root contains besides `/proc`, `/dev` and the root itself.
public struct FilesystemPolicy: Sendable, Equatable {
    /// Host paths made visible read-only, each at the same or another path inside.
    /// A host path that is a symlink (Debian's `/bin -> usr/bin`) is recreated as that symlink.
    public var readOnly: [PathMapping]
    /// Writable size-capped tmpfs mounts (sized by `limits.tmpfsBytes`).
    public var tmpfs: [String]
    /// The program's working directory, inside; a writable tmpfs unless a bind covers it.
    public var workdir: String
    /// Device nodes under `/dev`, by name: a subset of null, zero, full, random, urandom, tty.
    public var devices: [String]

    public init(readOnly: [PathMapping], tmpfs: [String], workdir: String, devices: [String]) {
        self.readOnly = readOnly
        self.tmpfs = tmpfs
        self.workdir = workdir
        self.devices = devices
    }
}

/// A host path and where it appears inside the sandbox.
public struct PathMapping: Sendable, Equatable, Hashable {
    public var source: String
    public var destination: String
    /// A missing optional source is skipped instead of failing the run (e.g. `/lib64`).
    public var optional: Bool
    public init(source: String, destination: String? = nil, optional: Bool = false) {
        self.source = source
        self.destination = destination ?? source
        self.optional = optional
    }
}

/// The syscall policy: an allow-list, with everything else refused or killed.
///
/// The syscalls in `SeccompPolicy.forbidden` are not part of any policy: the filter always
/// kills on them, and a profile that allows one is rejected when loaded.
public struct SeccompPolicy: Sendable, Hashable {
    public enum Action: Sendable, Hashable {
        /// Fail the call with this errno (EPERM = 1, ENOSYS = 38).
        case errno(Int32)
        /// Kill the whole process; the run ends as `seccomp_violation`.
        case kill
        case allow
    }

    /// What an unlisted syscall gets.
    public var defaultAction: Action
    /// Syscalls allowed unconditionally, by name.
    public var allow: [String]
    /// Syscalls given a specific action other than allow (e.g. `clone3: errno 38` so libc
    /// falls back to `clone`, whose flags the filter can inspect).
    public var overrides: [SyscallOverride]
    /// Where the list came from, for messages: "inline" or the OCI JSON file's path.
    public var origin: String

    public init(defaultAction: Action, allow: [String], overrides: [SyscallOverride] = [], origin: String = "inline") {
        self.defaultAction = defaultAction
        self.allow = allow
        self.overrides = overrides
        self.origin = origin
    }
}

public struct SyscallOverride: Sendable, Hashable {
    public var name: String
    public var action: SeccompPolicy.Action
    public init(name: String, action: SeccompPolicy.Action) {
        self.name = name
        self.action = action
    }
}
