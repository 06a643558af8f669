import CSandbox
import Glibc

/// The C `sbx_plan` for one run and every byte it points to, allocated before clone and
/// freed after the child has exec'd (the child works on its own copy of this memory).
final class ChildPlan {
    private(set) var plan = sbx_plan()
    private var allocations: [UnsafeMutableRawPointer] = []
    private var mountOps: UnsafeMutablePointer<sbx_mount_op>?
    private var rlimitList: UnsafeMutablePointer<sbx_rlimit>?
    private var filterList: UnsafeMutablePointer<sbx_filter>?
    private var cgroupFds: UnsafeMutablePointer<Int32>?

    struct Descriptors {
        var stdin: Int32, stdout: Int32, stderr: Int32, report: Int32, sync: Int32
    }

    init(
        mounts: MountPlan, root: String, identity: MountPlan.Identity, userNamespace: Bool,
        hostname: String, workdir: String, limits: ResolvedLimits, filters: [sbx_filter],
        cgroupProcs: [Int32], executables: [String], arguments: [String],
        environment: [String], descriptors: Descriptors, capLastCap: Int32, stack: ChildStack
    ) {
        plan.stack = stack.base
        plan.stack_size = stack.size
        plan.new_user_namespace = userNamespace ? 1 : 0
        plan.sync_fd = descriptors.sync
        plan.stdin_fd = descriptors.stdin
        plan.stdout_fd = descriptors.stdout
        plan.stderr_fd = descriptors.stderr
        plan.report_fd = descriptors.report

        cgroupFds = copyArray(cgroupProcs)
        plan.cgroup_procs_fds = UnsafePointer(cgroupFds)
        plan.cgroup_procs_count = cgroupProcs.count

        plan.root = UnsafePointer(string(root))
        plan.root_tmpfs_data = UnsafePointer(string("size=1m,nr_inodes=4096,mode=0755"))
        let ops = mounts.steps.enumerated().map { index, step in
            mountOp(step, root: root, optional: mounts.optionalSteps.contains(index))
        }
        mountOps = copyArray(ops)
        plan.mounts = UnsafePointer(mountOps)
        plan.mount_count = ops.count
        plan.workdir = UnsafePointer(string(workdir))

        plan.hostname = UnsafePointer(string(hostname))
        plan.uid = identity.uid
        plan.gid = identity.gid
        plan.cap_last_cap = capLastCap
        let rlimits = Self.rlimits(for: limits)
        rlimitList = copyArray(rlimits)
        plan.rlimits = UnsafePointer(rlimitList)
        plan.rlimit_count = rlimits.count

        filterList = copyArray(filters)
        plan.filters = UnsafePointer(filterList)
        plan.filter_count = filters.count

        plan.exec_paths = UnsafeRawPointer(stringArray(executables)).assumingMemoryBound(to: UnsafePointer<CChar>?.self)
        plan.exec_path_count = executables.count
        plan.argv = UnsafePointer(stringArray(arguments))
        plan.envp = UnsafePointer(stringArray(environment))
    }

    deinit {
        for pointer in allocations { free(pointer) }
    }

    /// Spawns the child; the plan memory must outlive this call only.
    func spawn() -> (pid: pid_t, pidfd: Int32)? {
        var pidfd: Int32 = -1
        let pid = withUnsafePointer(to: &plan) { sbx_spawn($0, &pidfd) }
        return pid < 0 ? nil : (pid, pidfd)
    }

    /// What a failed step was working on, for the setup error's detail.
    func describeStep(_ step: Int32, index: Int32) -> String? {
        guard index >= 0 else { return nil }
        switch sbx_step(rawValue: UInt32(step)) {
        case SBX_STEP_MOUNT_OP where Int(index) < plan.mount_count:
            let op = plan.mounts[Int(index)]
            return op.target.map { String(cString: $0).replacingPrefix(String(cString: plan.root), with: "") }
        case SBX_STEP_RLIMIT where Int(index) < plan.rlimit_count:
            return "resource \(plan.rlimits[Int(index)].resource)"
        default:
            return "#\(index)"
        }
    }

    static func rlimits(for limits: ResolvedLimits) -> [sbx_rlimit] {
        func limit(_ resource: Int32, _ value: Int64) -> sbx_rlimit {
            sbx_rlimit(resource: resource, soft: UInt64(value), hard: UInt64(value))
        }
        // The CPU rlimit is a per-process backstop; the supervisor enforces the run's total.
        let cpuSeconds = UInt64((limits.cpuTimeMs + 999) / 1_000) + 1
        return [
            limit(Int32(RLIMIT_CORE.rawValue), 0),
            limit(Int32(RLIMIT_NOFILE.rawValue), limits.openFiles),
            limit(Int32(RLIMIT_FSIZE.rawValue), limits.fileSizeBytes),
            limit(Int32(RLIMIT_STACK.rawValue), limits.stackBytes),
            limit(sbx_rlimit_nproc(), limits.pids),
            sbx_rlimit(resource: Int32(RLIMIT_CPU.rawValue), soft: cpuSeconds, hard: cpuSeconds + 1),
        ]
    }

    private func mountOp(_ step: MountStep, root: String, optional: Bool) -> sbx_mount_op {
        var op = sbx_mount_op()
        op.optional = optional ? 1 : 0
        func target(_ path: String) -> UnsafePointer<CChar> { UnsafePointer(string(root + path)) }
        let readOnlyFlags = UInt(MS_RDONLY | MS_NOSUID | MS_NODEV)
        switch step {
        case .directory(let path, let mode):
            op.kind = Int32(SBX_MOUNT_DIR.rawValue)
            op.target = target(path)
            op.mode = mode
        case .file(let path):
            op.kind = Int32(SBX_MOUNT_FILE.rawValue)
            op.target = target(path)
            op.mode = 0o644
        case .symlink(let path, let linkText):
            op.kind = Int32(SBX_MOUNT_SYMLINK.rawValue)
            op.source = UnsafePointer(string(linkText))
            op.target = target(path)
        case .bind(let source, let destination, let readOnly):
            op.kind = Int32(SBX_MOUNT_BIND.rawValue)
            op.source = UnsafePointer(string(source))
            op.target = target(destination)
            if readOnly {
                op.flags = readOnlyFlags
            } else if destination.hasPrefix("/dev/") {
                op.flags = UInt(MS_NOSUID | MS_NOEXEC)  // device nodes: no nodev here
            } else {
                op.flags = UInt(MS_NOSUID | MS_NODEV)
            }
        case .tmpfs(let path, let options, let readOnly):
            op.kind = Int32(SBX_MOUNT_TMPFS.rawValue)
            op.target = target(path)
            op.data = UnsafePointer(string(options))
            op.flags = UInt(MS_NOSUID | MS_NODEV) | (readOnly ? UInt(MS_RDONLY) : 0)
        case .proc(let path):
            op.kind = Int32(SBX_MOUNT_PROC.rawValue)
            op.target = target(path)
            op.flags = UInt(MS_NOSUID | MS_NODEV | MS_NOEXEC)
        case .readOnlySelf(let path):
            op.kind = Int32(SBX_MOUNT_BIND.rawValue)
            op.source = target(path)
            op.target = target(path)
            op.flags = readOnlyFlags | UInt(MS_NOEXEC)
        case .writeFile(let path, let contents, let mode):
            op.kind = Int32(SBX_MOUNT_WRITE_FILE.rawValue)
            op.target = target(path)
            let bytes = string(contents)
            op.data = UnsafePointer(bytes)
            op.data_len = contents.utf8.count
            op.mode = mode
        }
        return op
    }

    // ---- C memory owned by this plan ----

    private func string(_ text: String) -> UnsafeMutablePointer<CChar> {
        let pointer = strdup(text)!
        allocations.append(UnsafeMutableRawPointer(pointer))
        return pointer
    }

    /// A NULL-terminated array of C strings.
    private func stringArray(_ texts: [String]) -> UnsafeMutablePointer<UnsafeMutablePointer<CChar>?> {
        let raw = malloc(MemoryLayout<UnsafeMutablePointer<CChar>?>.stride * (texts.count + 1))!
        allocations.append(raw)
        let array = raw.bindMemory(to: UnsafeMutablePointer<CChar>?.self, capacity: texts.count + 1)
        for (index, text) in texts.enumerated() { array[index] = string(text) }
        array[texts.count] = nil
        return array
    }

    private func copyArray<T>(_ values: [T]) -> UnsafeMutablePointer<T>? {
        guard !values.isEmpty else { return nil }
        let raw = malloc(MemoryLayout<T>.stride * values.count)!
        allocations.append(raw)
        let pointer = raw.bindMemory(to: T.self, capacity: values.count)
        pointer.initialize(from: values, count: values.count)
        return pointer
    }
}

/// The stack a slot's children start on, mapped once for the slot's lifetime.
final class ChildStack: @unchecked Sendable {
    static let size = 256 * 1024
    let base: UnsafeMutableRawPointer
    var size: Int { Self.size }

    init() throws(SystemError) {
        guard let base = sbx_stack_allocate(Self.size) else { throw SystemError("mmap child stack") }
        self.base = base
    }

    deinit { sbx_stack_free(base, Self.size) }
}

extension String {
    func replacingPrefix(_ prefix: String, with replacement: String) -> String {
        hasPrefix(prefix) ? replacement + dropFirst(prefix.count) : self
    }
}
