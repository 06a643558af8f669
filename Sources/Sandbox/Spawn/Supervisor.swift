import CSandbox
import Glibc

/// Everything one run needs, resolved and checked before anything is cloned.
struct RunContext {
    var profile: Profile
    var limits: ResolvedLimits
    var request: RunRequest
    var mounts: MountPlan
    /// The ids the program has inside (the same as `hostIdentity` without a user namespace).
    var identity: MountPlan.Identity
    var hostIdentity: MountPlan.Identity
    var filters: [CompiledFilter]
    var executables: [String]
    var environment: [String]
    var workdir: String
    var root: String
    var capLastCap: Int32
    var slot: any CgroupSlot
    var stack: ChildStack
    var cancel: CancelSignal
}

/// Runs one program to its end on the calling thread: spawn, feed stdin, capture output,
/// enforce the wall and CPU limits, reap, and account. Blocking by design — the engine gives
/// each run its own thread so the Swift concurrency pool never blocks.
struct Supervisor {
    private enum KillReason {
        case cancelled, wallTime, cpuTime, output(OutputStream)
    }

    private let context: RunContext
    private var killReason: KillReason?
    private var stdoutCapture: [UInt8] = []
    private var stderrCapture: [UInt8] = []
    private var pidfd: Int32 = -1

    static func run(_ context: RunContext) -> RunResult {
        var supervisor = Supervisor(context: context)
        return supervisor.run()
    }

    private init(context: RunContext) {
        self.context = context
    }

    private func result(_ outcome: RunResult.Outcome) -> RunResult {
        RunResult(outcome: outcome, profile: context.profile.name, limits: context.limits)
    }

    private mutating func run() -> RunResult {
        if context.cancel.isFired { return result(.cancelled) }
        var stdinRead: Int32 = -1, stdinWrite: Int32 = -1
        var outPipe = (read: Int32(-1), write: Int32(-1)), errPipe = (read: Int32(-1), write: Int32(-1))
        var report = (read: Int32(-1), write: Int32(-1)), sync = (read: Int32(-1), write: Int32(-1))
        defer {
            for fd in [stdinRead, stdinWrite, outPipe.read, outPipe.write, errPipe.read, errPipe.write,
                       report.read, report.write, sync.read, sync.write, pidfd] where fd >= 0 {
                close(fd)
            }
        }
        let baseline: CgroupBaseline
        do throws(SystemError) {
            switch context.request.input {
            case .none:
                stdinRead = open("/dev/null", O_RDONLY | O_CLOEXEC)
                guard stdinRead >= 0 else { throw SystemError("open", path: "/dev/null") }
            case .file(let path):
                stdinRead = open(path, O_RDONLY | O_CLOEXEC)
                guard stdinRead >= 0 else { throw SystemError("open stdin file", path: path) }
            case .bytes:
                let pipe = try Pipe()
                (stdinRead, stdinWrite) = (pipe.read, pipe.write)
                setNonBlocking(stdinWrite)
            }
            let out = try Pipe(), err = try Pipe(), rep = try Pipe()
            outPipe = (out.read, out.write)
            errPipe = (err.read, err.write)
            report = (rep.read, rep.write)
            if context.profile.userNamespace {
                let pipe = try Pipe()
                sync = (pipe.read, pipe.write)
            }
            setNonBlocking(outPipe.read)
            setNonBlocking(errPipe.read)
            try context.slot.apply(CgroupLimits(
                memoryBytes: context.limits.memoryBytes, pids: context.limits.pids,
                milliCPUs: context.limits.milliCPUs))
            baseline = try context.slot.beginRun()
        } catch {
            return setupFailure(step: "prepare", errno: error.errno, detail: error.description)
        }

        let plan = ChildPlan(
            mounts: context.mounts, root: context.root, identity: context.identity,
            userNamespace: context.profile.userNamespace, hostname: context.profile.hostname,
            workdir: context.workdir, limits: context.limits, filters: context.filters.map(\.filter),
            cgroupProcs: context.slot.procsDescriptors, executables: context.executables,
            arguments: context.request.arguments, environment: context.environment,
            descriptors: .init(stdin: stdinRead, stdout: outPipe.write, stderr: errPipe.write,
                               report: report.write, sync: sync.read),
            capLastCap: context.capLastCap, stack: context.stack)

        let start = monotonicMicroseconds()
        guard let child = plan.spawn() else {
            return setupFailure(step: "clone", errno: errno, detail: nil)
        }
        pidfd = child.pidfd
        for fd in [stdinRead, outPipe.write, errPipe.write, report.write, sync.read] where fd >= 0 { close(fd) }
        stdinRead = -1; outPipe.write = -1; errPipe.write = -1; report.write = -1; sync.read = -1

        if context.profile.userNamespace {
            if let failure = writeIdentityMaps(pid: child.pid) {
                _ = sbx_pidfd_kill(pidfd)
                _ = reap(blocking: true)
                try? context.slot.killAll()
                return failure
            }
            var byte: UInt8 = 1
            _ = write(sync.write, &byte, 1)
        }

        if let failure = readSetupReport(report.read, plan: plan, deadline: start + context.limits.wallTimeMs * 1_000) {
            _ = sbx_pidfd_kill(pidfd)
            _ = reap(blocking: true)
            try? context.slot.killAll()
            return failure
        }

        let execed = monotonicMicroseconds()
        var input: [UInt8] = []
        if case .bytes(let bytes) = context.request.input { input = bytes }
        let status = supervise(start: start, stdout: &outPipe.read, stderr: &errPipe.read, stdin: &stdinWrite, input: input)
        let wall = max(0, status.exitedAt - start)

        var cleanupError: SystemError?
        do { try context.slot.killAll() } catch { cleanupError = error }
        let usage = (try? context.slot.usage(since: baseline))
            ?? CgroupUsage(cpuNanoseconds: 0, peakMemoryBytes: 0, oomKills: 0)

        var record = result(.failed)
        record.exitCode = status.exitCode >= 0 ? status.exitCode : nil
        record.signal = status.signal > 0 ? status.signal : nil
        record.wallMicroseconds = wall
        record.spawnMicroseconds = execed - start
        record.cpuMicroseconds = Int64(usage.cpuNanoseconds / 1_000)
        record.peakMemoryBytes = usage.peakMemoryBytes
        record.stdout = stdoutCapture
        record.stderr = stderrCapture
        record.stdoutBytes = Int64(stdoutCapture.count)
        record.stderrBytes = Int64(stderrCapture.count)
        classify(&record, oomKills: usage.oomKills, cpuNanoseconds: usage.cpuNanoseconds, start: start)
        if let cleanupError {
            record.setupError = SetupFailure(step: "cleanup", errno: cleanupError.errno,
                                             errnoName: errnoName(cleanupError.errno), detail: cleanupError.description)
        }
        return record
    }

    /// The one outcome of a run that started, most specific cause first.
    private func classify(_ record: inout RunResult, oomKills: Int64, cpuNanoseconds: UInt64, start: Int64) {
        switch killReason {
        case .cancelled?:
            record.outcome = .cancelled
        case .output(let stream)?:
            record.outcome = .outputLimit
            record.limitHit = stream.rawValue
        case .wallTime?:
            record.outcome = .timeout
            record.limitHit = "wall"
        case .cpuTime?:
            record.outcome = .timeout
            record.limitHit = "cpu"
        case nil:
            if oomKills > 0 && record.exitCode != 0 {
                record.outcome = .oom
            } else if record.signal == SIGSYS {
                record.outcome = .seccompViolation
                record.seccompSyscall = KernelAudit.seccompSyscall(uid: context.hostIdentity.uid, since: start)
            } else if record.signal == SIGXCPU
                        || (record.signal == SIGKILL && cpuNanoseconds >= UInt64(context.limits.cpuTimeMs) * 1_000_000) {
                // The per-process RLIMIT_CPU backstop fired before the supervisor's check.
                record.outcome = .timeout
                record.limitHit = "cpu"
            } else if record.exitCode == 0 {
                record.outcome = .completed
            } else {
                record.outcome = .failed
            }
        }
    }

    private func setupFailure(step: String, errno: Int32, detail: String?) -> RunResult {
        var record = result(.setupError)
        record.setupError = SetupFailure(step: step, errno: errno, errnoName: errnoName(errno), detail: detail)
        return record
    }

    /// EOF means execve succeeded (the write end is close-on-exec); a report means a step failed.
    /// Setup counts against the wall limit: a child stuck before exec is killed, not waited for.
    private func readSetupReport(_ fd: Int32, plan: ChildPlan, deadline: Int64) -> RunResult? {
        var waiting = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        while true {
            let remaining = deadline - monotonicMicroseconds()
            guard remaining > 0 else { return setupFailure(step: "setup", errno: ETIMEDOUT, detail: "the sandbox was not ready before the wall-time limit") }
            let ready = sbx_poll_us(&waiting, 1, remaining)
            if ready > 0 { break }
            if ready < 0 && errno != EINTR { return setupFailure(step: "report", errno: errno, detail: nil) }
        }
        var report = sbx_report()
        let count = withUnsafeMutableBytes(of: &report) { buffer in
            retryingEINTR { read(fd, buffer.baseAddress, buffer.count) }
        }
        if count == 0 { return nil }
        guard count == MemoryLayout<sbx_report>.size else {
            return setupFailure(step: "report", errno: count < 0 ? errno : EPROTO, detail: "short report from child")
        }
        var failure = setupFailure(step: Self.stepName(report.step), errno: report.error,
                                   detail: plan.describeStep(report.step, index: report.index))
        if report.step == Int32(SBX_STEP_EXECVE.rawValue) {
            failure.setupError?.detail = context.request.arguments.first
        }
        return failure
    }

    /// uid_map / gid_map: one id inside, the slot's unprivileged host id outside — never 0.
    private func writeIdentityMaps(pid: pid_t) -> RunResult? {
        let maps = [
            ("uid_map", "\(context.identity.uid) \(context.hostIdentity.uid) 1\n"),
            ("gid_map", "\(context.identity.gid) \(context.hostIdentity.gid) 1\n"),
        ]
        for (file, line) in maps {
            let path = "/proc/\(pid)/\(file)"
            do {
                try writeOnce(line, to: path)
            } catch {
                return setupFailure(step: "user namespace map", errno: error.errno, detail: path)
            }
        }
        return nil
    }

    private struct ExitStatus {
        var exitCode: Int32 = -1
        var signal: Int32 = 0
        var exitedAt: Int64 = 0
    }

    private func reap(blocking: Bool) -> ExitStatus? {
        var code: Int32 = -1, signal: Int32 = 0
        let rc = sbx_pidfd_wait(pidfd, &code, &signal, blocking ? 0 : 1)
        guard rc == 1 else { return nil }
        return ExitStatus(exitCode: code, signal: signal, exitedAt: monotonicMicroseconds())
    }

    private mutating func kill(_ reason: KillReason) {
        if killReason == nil { killReason = reason }
        _ = sbx_pidfd_kill(pidfd)
    }

    /// The poll loop: until the program exits and its output pipes reach EOF.
    private mutating func supervise(
        start: Int64, stdout: inout Int32, stderr: inout Int32, stdin: inout Int32, input: [UInt8]
    ) -> ExitStatus {
        let wallDeadline = start + context.limits.wallTimeMs * 1_000
        let cpuLimitNs = UInt64(context.limits.cpuTimeMs) * 1_000_000
        // CPU time can grow no faster than the quota allows, so the first look can wait.
        let cpuRate = Double(min(context.limits.milliCPUs, Int64(HostInfo.onlineCPUs) * 1_000)) / 1_000
        var nextCpuCheck = start + Int64(Double(context.limits.cpuTimeMs * 1_000) / cpuRate)
        var inputOffset = 0
        var exit: ExitStatus?
        var drainDeadline = Int64.max
        if input.isEmpty { closeIfOpen(&stdin) }

        while true {
            let now = monotonicMicroseconds()
            if exit != nil && ((stdout < 0 && stderr < 0) || now >= drainDeadline) { break }
            if exit == nil && killReason == nil {
                if now >= wallDeadline { kill(.wallTime) }
                if now >= nextCpuCheck, let used = try? context.slot.cpuNanoseconds() {
                    if used >= cpuLimitNs {
                        kill(.cpuTime)
                    } else {
                        let remaining = Double(cpuLimitNs - used) / 1_000 / cpuRate
                        nextCpuCheck = now + max(2_000, Int64(remaining))
                    }
                }
            }

            var fds: [pollfd] = []
            fds.append(pollfd(fd: exit == nil ? pidfd : -1, events: Int16(POLLIN), revents: 0))
            fds.append(pollfd(fd: stdout, events: Int16(POLLIN), revents: 0))
            fds.append(pollfd(fd: stderr, events: Int16(POLLIN), revents: 0))
            fds.append(pollfd(fd: stdin, events: Int16(POLLOUT), revents: 0))
            fds.append(pollfd(fd: killReason == nil ? context.cancel.descriptor : -1, events: Int16(POLLIN), revents: 0))

            var deadline = exit == nil ? (killReason == nil ? min(wallDeadline, nextCpuCheck) : now + 1_000_000) : drainDeadline
            deadline = max(deadline, now)
            let ready = fds.withUnsafeMutableBufferPointer { buffer in
                sbx_poll_us(buffer.baseAddress, UInt(buffer.count), deadline - now)
            }
            if ready < 0 && errno != EINTR { break }
            if ready <= 0 { continue }

            if fds[1].revents != 0 { drain(&stdout, stream: .stdout) }
            if fds[2].revents != 0 { drain(&stderr, stream: .stderr) }
            if fds[3].revents != 0 { feed(&stdin, input: input, offset: &inputOffset) }
            if fds[4].revents != 0 { kill(.cancelled) }
            if fds[0].revents != 0, let status = reap(blocking: false) {
                exit = status
                closeIfOpen(&stdin)
                // Every process of the pid namespace is gone once its init is reaped; the pipes
                // can only be held a moment longer by a sibling run still between clone and exec.
                drainDeadline = status.exitedAt + 1_000_000
            }
        }
        closeIfOpen(&stdout)
        closeIfOpen(&stderr)
        closeIfOpen(&stdin)
        if let exit { return exit }
        _ = sbx_pidfd_kill(pidfd)  // poll itself failed: end the run rather than wait blind
        return reap(blocking: true) ?? ExitStatus(exitedAt: monotonicMicroseconds())
    }

    private mutating func drain(_ fd: inout Int32, stream: OutputStream) {
        var buffer = [UInt8](repeating: 0, count: 65_536)
        let cap = Int(stream == .stdout ? context.limits.stdoutBytes : context.limits.stderrBytes)
        for _ in 0..<16 {  // bounded, so a flood on one stream cannot starve the other checks
            let count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if count == 0 { closeIfOpen(&fd); return }
            if count < 0 {
                if errno == EINTR { continue }
                if errno != EAGAIN { closeIfOpen(&fd) }
                return
            }
            let captured = stream == .stdout ? stdoutCapture.count : stderrCapture.count
            let keep = max(0, min(count, cap - captured))
            if keep > 0 {
                let chunk = Array(buffer[..<keep])
                if stream == .stdout { stdoutCapture += chunk } else { stderrCapture += chunk }
                context.request.outputHandler?(stream, chunk)
            }
            if count > keep && killReason == nil { kill(.output(stream)) }
        }
    }

    private func feed(_ fd: inout Int32, input: [UInt8], offset: inout Int) {
        let count = input.withUnsafeBytes { buffer in
            write(fd, buffer.baseAddress! + offset, min(65_536, buffer.count - offset))
        }
        if count > 0 { offset += count }
        // EPIPE: the program closed its stdin early, which is its right.
        if offset >= input.count || (count < 0 && errno != EAGAIN && errno != EINTR) { closeIfOpen(&fd) }
    }

    static func stepName(_ step: Int32) -> String {
        let names: [UInt32: String] = [
            SBX_STEP_SIGNALS.rawValue: "signals", SBX_STEP_SYNC.rawValue: "sync",
            SBX_STEP_CGROUP_JOIN.rawValue: "cgroup_join", SBX_STEP_CGROUP_NAMESPACE.rawValue: "cgroup_namespace",
            SBX_STEP_SESSION.rawValue: "setsid", SBX_STEP_STDIO.rawValue: "stdio",
            SBX_STEP_MOUNT_PRIVATE.rawValue: "mount_private", SBX_STEP_ROOT_TMPFS.rawValue: "root_tmpfs",
            SBX_STEP_MOUNT_OP.rawValue: "mount", SBX_STEP_PIVOT_ROOT.rawValue: "pivot_root",
            SBX_STEP_OLD_ROOT_DETACH.rawValue: "old_root_detach", SBX_STEP_ROOT_READONLY.rawValue: "root_readonly",
            SBX_STEP_HOSTNAME.rawValue: "sethostname", SBX_STEP_LOOPBACK.rawValue: "loopback",
            SBX_STEP_RLIMIT.rawValue: "setrlimit", SBX_STEP_CHDIR.rawValue: "chdir",
            SBX_STEP_GROUPS.rawValue: "setgroups", SBX_STEP_SETGID.rawValue: "setresgid",
            SBX_STEP_SETUID.rawValue: "setresuid", SBX_STEP_CAPS_BOUNDING.rawValue: "capbset_drop",
            SBX_STEP_CAPS_AMBIENT.rawValue: "ambient_caps", SBX_STEP_CAPS.rawValue: "capset",
            SBX_STEP_NO_NEW_PRIVS.rawValue: "no_new_privs", SBX_STEP_PARENT_DEATH.rawValue: "pdeathsig",
            SBX_STEP_SECCOMP.rawValue: "seccomp", SBX_STEP_EXECVE.rawValue: "execve",
        ]
        return names[UInt32(step)] ?? "step \(step)"
    }
}
