import Glibc

/// One step of building the fresh root, executed in order by the child. Paths are inside the
/// sandbox; the child sees them under the root's host mount point.
public enum MountStep: Sendable, Equatable {
    case directory(String, mode: UInt32)
    /// An empty regular file to bind a file onto.
    case file(String)
    case symlink(String, pointingTo: String)
    case bind(source: String, destination: String, readOnly: Bool)
    case tmpfs(String, options: String, readOnly: Bool)
    case proc(String)
    /// Bind `path` onto itself read-only (masks /proc/sys and friends).
    case readOnlySelf(String)
    case writeFile(String, contents: String, mode: UInt32)

    /// The path inside the sandbox this step creates or covers.
    public var destination: String {
        switch self {
        case .directory(let path, _), .file(let path), .symlink(let path, _), .tmpfs(let path, _, _),
             .proc(let path), .readOnlySelf(let path), .writeFile(let path, _, _):
            return path
        case .bind(_, let destination, _):
            return destination
        }
    }
}

/// The ordered list of mount steps for one run: what the profile and request make visible,
/// plus the fixed parts every sandbox gets (`/proc` with its masks, a minimal `/dev`, a
/// generated `/etc/passwd`).
public struct MountPlan: Sendable, Equatable {
    public private(set) var steps: [MountStep] = []
    /// Indexes of steps skipped when their target does not exist on this kernel (/proc masks).
    public private(set) var optionalSteps: Set<Int> = []
    private var created: Set<String> = ["/"]

    /// Host paths masked with /dev/null or made read-only inside the new /proc.
    static let procReadOnly = ["/proc/sys", "/proc/sysrq-trigger", "/proc/irq", "/proc/bus", "/proc/fs"]
    static let procMaskedFiles = ["/proc/kcore", "/proc/keys", "/proc/timer_list", "/proc/sched_debug", "/proc/latency_stats"]
    static let procMaskedDirectories = ["/proc/acpi", "/proc/scsi"]
    static let deviceNames: Set<String> = ["null", "zero", "full", "random", "urandom", "tty"]

    public struct Identity: Sendable, Equatable {
        public var uid: UInt32
        public var gid: UInt32
        public init(uid: UInt32, gid: UInt32) {
            self.uid = uid
            self.gid = gid
        }
    }

    /// Builds the plan, checking host paths now so a missing one is a clear error before
    /// anything is cloned.
    public init(
        filesystem: FilesystemPolicy, request: RunRequest, tmpfsBytes: Int64, identity: Identity,
        hostname: String, lookup: (String) -> HostPathKind = HostPathKind.of
    ) throws(MountPlanError) {
        var visible = filesystem.readOnly.map { ($0, true) } + request.readOnlyBinds.map { ($0, true) }
        visible += request.writableBinds.map { ($0, false) }
        if let bundle = request.bundleDirectory {
            visible.append((PathMapping(source: bundle, destination: "/agent"), true))
        }
        // What covers each destination, decided first; emitted shallowest first so a tmpfs
        // never hides a bind beneath it (a bind at /work/data lands inside the /work tmpfs).
        var covers: [(destination: String, step: [MountStep])] = []
        for (mapping, readOnly) in visible {
            try checkInsidePath(mapping.destination)
            switch lookup(mapping.source) {
            case .missing:
                if mapping.optional { continue }
                throw MountPlanError.missingSource(mapping.source)
            case .symlink(let target):
                covers.append((mapping.destination, [.symlink(mapping.destination, pointingTo: target)]))
            case .directory:
                covers.append((mapping.destination, [
                    .directory(mapping.destination, mode: 0o755),
                    .bind(source: mapping.source, destination: mapping.destination, readOnly: readOnly)]))
            case .file:
                covers.append((mapping.destination, [
                    .file(mapping.destination),
                    .bind(source: mapping.source, destination: mapping.destination, readOnly: readOnly)]))
            case .other:
                throw MountPlanError.unsupportedSource(mapping.source)
            }
        }
        let workdir = request.workingDirectory ?? filesystem.workdir
        try checkInsidePath(workdir)
        let bound = Set(covers.map(\.destination))
        let size = "size=\(tmpfsBytes),nr_inodes=\(max(1024, tmpfsBytes / 4096))"
        for path in filesystem.tmpfs where !bound.contains(path) {
            try checkInsidePath(path)
            covers.append((path, [.directory(path, mode: 0o755), .tmpfs(path, options: "\(size),mode=1777", readOnly: false)]))
        }
        if !bound.contains(workdir) && !filesystem.tmpfs.contains(workdir) && !isCovered(workdir, by: bound) {
            covers.append((workdir, [
                .directory(workdir, mode: 0o755),
                .tmpfs(workdir, options: "\(size),mode=0755,uid=\(identity.uid),gid=\(identity.gid)", readOnly: false)]))
        }
        let depth = { (path: String) in path.split(separator: "/").count }
        for cover in covers.enumerated().sorted(by: { (depth($0.element.destination), $0.offset) < (depth($1.element.destination), $1.offset) }) {
            addParents(of: cover.element.destination)
            for step in cover.element.step {
                if case .directory(let path, _) = step {
                    addDirectory(path)
                } else {
                    created.insert(step.destination)
                    steps.append(step)
                }
            }
        }
        addProc()
        try addDevices(filesystem.devices)
        addEtc(identity: identity, hostname: hostname, home: workdir, bound: bound)
    }

    /// A workdir inside a bound directory (e.g. /agent/src) needs no tmpfs of its own.
    private func isCovered(_ path: String, by bound: Set<String>) -> Bool {
        bound.contains { path.hasPrefix($0 + "/") }
    }

    private mutating func addProc() {
        addDirectory("/proc")
        steps.append(.proc("/proc"))
        let masks = Self.procReadOnly.map { MountStep.readOnlySelf($0) }
            + Self.procMaskedFiles.map { MountStep.bind(source: "/dev/null", destination: $0, readOnly: true) }
            + Self.procMaskedDirectories.map { MountStep.tmpfs($0, options: "size=0,mode=0555", readOnly: true) }
        for mask in masks {
            optionalSteps.insert(steps.count)
            steps.append(mask)
        }
    }

    private mutating func addDevices(_ devices: [String]) throws(MountPlanError) {
        addDirectory("/dev")
        for name in devices {
            guard Self.deviceNames.contains(name) else { throw MountPlanError.unknownDevice(name) }
            steps.append(.file("/dev/\(name)"))
            steps.append(.bind(source: "/dev/\(name)", destination: "/dev/\(name)", readOnly: false))
        }
        steps.append(.symlink("/dev/fd", pointingTo: "/proc/self/fd"))
        steps.append(.symlink("/dev/stdin", pointingTo: "/proc/self/fd/0"))
        steps.append(.symlink("/dev/stdout", pointingTo: "/proc/self/fd/1"))
        steps.append(.symlink("/dev/stderr", pointingTo: "/proc/self/fd/2"))
    }

    /// Programs look their uid up in /etc/passwd (Python's getpass, a shell's ~); a generated
    /// one names the sandbox user without exposing the host's accounts.
    private mutating func addEtc(identity: Identity, hostname: String, home: String, bound: Set<String>) {
        if bound.contains("/etc") { return }
        addDirectory("/etc")
        let files = [
            ("/etc/passwd", "sandbox:x:\(identity.uid):\(identity.gid):sandbox:\(home):/bin/sh\n"),
            ("/etc/group", "sandbox:x:\(identity.gid):\n"),
            ("/etc/hostname", "\(hostname)\n"),
            ("/etc/hosts", "127.0.0.1\tlocalhost \(hostname)\n::1\tlocalhost\n"),
        ]
        for (path, contents) in files where !bound.contains(path) {
            steps.append(.writeFile(path, contents: contents, mode: 0o644))
        }
    }

    private mutating func addDirectory(_ path: String) {
        addParents(of: path)
        if created.insert(path).inserted { steps.append(.directory(path, mode: 0o755)) }
    }

    private mutating func addParents(of path: String) {
        var parent = ""
        for component in path.split(separator: "/").dropLast() {
            parent += "/\(component)"
            if created.insert(parent).inserted { steps.append(.directory(parent, mode: 0o755)) }
        }
    }

    private func checkInsidePath(_ path: String) throws(MountPlanError) {
        let components = path.split(separator: "/", omittingEmptySubsequences: false)
        guard path.hasPrefix("/"), path != "/", !components.dropFirst().contains(where: { $0.isEmpty || $0 == "." || $0 == ".." }) else {
            throw MountPlanError.badDestination(path, "must be an absolute, normalised path other than /")
        }
        if path == "/proc" || path.hasPrefix("/proc/") || path == "/dev" || path.hasPrefix("/dev/") {
            throw MountPlanError.badDestination(path, "/proc and /dev are built by the sandbox")
        }
    }
}

public enum MountPlanError: Error, CustomStringConvertible, Sendable, Equatable {
    case missingSource(String)
    case unsupportedSource(String)
    case badDestination(String, String)
    case unknownDevice(String)

    public var description: String {
        switch self {
        case .missingSource(let path): return "host path \(path) does not exist"
        case .unsupportedSource(let path): return "host path \(path) is not a directory, regular file or symlink"
        case .badDestination(let path, let why): return "sandbox path \(path): \(why)"
        case .unknownDevice(let name): return "unknown device /dev/\(name)"
        }
    }
}

/// What a host path is, as the plan needs to know it (lstat: a symlink is recreated, not followed).
public enum HostPathKind: Sendable, Equatable {
    case missing, directory, file, other
    case symlink(String)

    public static func of(_ path: String) -> HostPathKind {
        var info = stat()
        guard lstat(path, &info) == 0 else { return .missing }
        switch info.st_mode & S_IFMT {
        case S_IFDIR: return .directory
        case S_IFREG: return .file
        case S_IFLNK:
            var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
            let count = readlink(path, &buffer, buffer.count - 1)
            guard count > 0 else { return .missing }
            return .symlink(String(decoding: buffer[..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self))
        default: return .other
        }
    }
}
