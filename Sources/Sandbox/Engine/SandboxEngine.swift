import Dispatch
import Glibc

/// Runs programs in sandboxes, at most `slots` at once. Safe to drive concurrently from any
/// number of tasks; cancelling a task kills its run.
public final class SandboxEngine: Sendable {
    public let configuration: EngineConfiguration
    public let cgroups: any CgroupDriver
    /// Whether cgroup joins avoid the RCU grace period (favordynmods).
    public let migrationTuning: CgroupMigrationTuning.State
    private let pool: SlotPool<Slot>
    private let allSlots: [Slot]
    private let compiler = SeccompCompiler()
    private let rootMountPoint: String
    private let instanceLock: FileLock
    /// What start-up found and did: dead engines' groups removed, slots that could not be
    /// emptied (never handed out).
    public let recovery: RecoveryReport

    public init(configuration: EngineConfiguration) throws(SandboxError) {
        guard configuration.slots > 0 else { throw .invalidRequest("slots must be at least 1") }
        // Feeding stdin to a program that exits early must be an EPIPE for the supervisor, not
        // a SIGPIPE that kills the whole runner. (Children get default dispositions back.)
        signal(SIGPIPE, SIG_IGN)
        self.configuration = configuration
        do throws(SystemError) {
            instanceLock = try InstanceLock.take(configuration.instance)
            let probe = CgroupProbe.host()
            migrationTuning = configuration.tuneCgroupMigrations
                ? CgroupMigrationTuning.enable(probe: probe) : CgroupMigrationTuning.state(probe: probe)
            cgroups = try probe.driver(group: "agentgrid/\(configuration.instance)", forcing: configuration.cgroupVersion)
            rootMountPoint = "\(configuration.stateDirectory)/sandbox-root"
            try makeDirectories(rootMountPoint)
            var report = RecoveryReport()
            report.sweptGroups = Self.sweepDeadEngines(beside: cgroups, except: configuration.instance)
            report.adoptedSlots = cgroups.slotNames()
            var slots: [Slot] = []
            var quarantined: [Slot] = []
            var taken: Set<UInt32> = []
            for index in 0..<configuration.slots {
                let lease = try HostIDLease.claim(
                    in: configuration.hostIDRange, directory: HostIDLease.directory, avoiding: taken)
                taken.insert(lease.id)
                let cgroup = try cgroups.makeSlot(named: "slot\(index)")
                let slot = Slot(index: index, cgroup: cgroup, lease: lease, stack: try ChildStack())
                // A leftover of a crashed engine of the same name is emptied before reuse; one
                // that cannot be emptied is reported and never handed out.
                do {
                    if !(try cgroup.processes()).isEmpty { report.emptiedSlots.append(cgroup.name) }
                    try cgroup.killAll()
                    slots.append(slot)
                } catch {
                    report.quarantinedSlots.append("\(cgroup.name): \(error)")
                    quarantined.append(slot)
                }
            }
            allSlots = slots + quarantined
            recovery = report
        } catch {
            throw .system(error)
        }
        pool = SlotPool(Array(allSlots.prefix(allSlots.count - recovery.quarantinedSlots.count)))
        startupQuarantine = recovery.quarantinedSlots.count
    }

    private let startupQuarantine: Int

    /// Removes the cgroups of engines whose process is gone (their instance lock is free):
    /// a killed runner of another name, an interrupted `exec`, a crashed test.
    static func sweepDeadEngines(beside cgroups: any CgroupDriver, except ours: String) -> [String] {
        var swept: [String] = []
        for group in cgroups.siblingGroups() {
            let name = String(group.split(separator: "/").last ?? "")
            if name == ours { continue }
            guard let lock = try? InstanceLock.attempt(name) else { continue }  // alive, or unreadable
            defer { lock.release() }
            let dead = cgroups.forGroup(group)
            for slotName in dead.slotNames() {
                if let slot = try? dead.makeSlot(named: slotName) { try? slot.destroy() }
            }
            try? dead.removeGroup()
            swept.append(name)
        }
        return swept
    }

    /// A place in the line for a slot, for a run that will start later (`RunRequest.slotTicket`):
    /// runs get slots in the order their places were taken.
    public func placeInLine() -> SlotTicket { pool.ticket() }

    /// Gives up a place that no run used; a no-op for one a run has used.
    public func giveUp(_ ticket: SlotTicket) { pool.abandon(ticket) }

    /// Runs `request` under `profile` and reports what happened. Throws only when the run
    /// cannot start (bad request, limit above a ceiling, missing host path).
    public func run(_ request: RunRequest, profile: Profile) async throws(SandboxError) -> RunResult {
        let limits: ResolvedLimits, filter: CompiledFilter, environment: [EnvironmentVariable], program: String
        do throws(SandboxError) {
            guard let first = request.arguments.first, !first.isEmpty else { throw .invalidRequest("no program given") }
            program = first
            do { limits = try profile.limits.resolve(request.limits) } catch { throw .limit(error) }
            do { filter = try compiler.filter(for: profile.seccomp) } catch { throw .seccomp(error) }
            environment = try Self.environment(profile: profile.environment, request: request.environment)
        } catch {
            // Its place in line is given up, or every later run would wait for it forever.
            if let ticket = request.slotTicket { pool.abandon(ticket) }
            throw error
        }
        let executables = Self.executableCandidates(program, environment: environment)

        guard let slot = await pool.acquire(request.slotTicket) else {
            return RunResult(outcome: .cancelled, profile: profile.name, limits: limits)
        }
        request.onSlotAcquired?()
        let hostIdentity = MountPlan.Identity(uid: slot.lease.id, gid: slot.lease.id)
        let identity = profile.userNamespace
            ? MountPlan.Identity(uid: configuration.namespacedID, gid: configuration.namespacedID) : hostIdentity
        let context: RunContext
        do {
            let mounts = try MountPlan(
                filesystem: profile.filesystem, request: request, tmpfsBytes: limits.tmpfsBytes,
                identity: identity, hostname: profile.hostname)
            context = RunContext(
                profile: profile, limits: limits, request: request, mounts: mounts, identity: identity,
                hostIdentity: hostIdentity, filters: [CompiledFilter.guardFilter, filter],
                executables: executables, environment: environment.map { "\($0.name)=\($0.value)" },
                workdir: request.workingDirectory ?? profile.filesystem.workdir, root: rootMountPoint,
                capLastCap: HostInfo.capLastCap, slot: slot.cgroup, stack: slot.stack, cancel: try CancelSignal())
        } catch let error as MountPlanError {
            pool.release(slot)
            throw .mount(error)
        } catch {
            pool.release(slot)
            throw .system(error as? SystemError ?? SystemError("prepare run", errno: EINVAL))
        }

        let result = await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<RunResult, Never>) in
                slot.supervisorQueue.async { continuation.resume(returning: Supervisor.run(context)) }
            }
        } onCancel: {
            context.cancel.fire()
        }
        if result.setupError?.step == "cleanup" {
            pool.quarantine(slot)
        } else {
            pool.release(slot)
        }
        return result
    }

    /// Slots that could not be cleaned and are out of service.
    public var quarantinedSlots: Int {
        get async { pool.quarantinedCount + startupQuarantine }
    }

    /// Kills whatever is left and removes the engine's cgroups. Call once, after the last run.
    public func shutdown() async {
        pool.close()
        for slot in allSlots {
            try? slot.cgroup.destroy()
            slot.lease.release()
        }
        try? cgroups.removeGroup()
        instanceLock.release()
    }

    static func environment(profile: [EnvironmentVariable], request: [EnvironmentVariable]) throws(SandboxError) -> [EnvironmentVariable] {
        var result = profile
        for variable in request {
            guard !variable.name.isEmpty, !variable.name.contains("="), !variable.name.contains("\0"),
                  !variable.value.contains("\0") else {
                throw .invalidRequest("bad environment variable name \(variable.name.debugDescription)")
            }
            result.removeAll { $0.name == variable.name }
            result.append(variable)
        }
        return result
    }

    /// execve candidates for argv[0], searched in the sandbox's PATH (not the caller's).
    static func executableCandidates(_ program: String, environment: [EnvironmentVariable]) -> [String] {
        if program.contains("/") { return [program] }
        let path = environment.last { $0.name == "PATH" }?.value ?? "/usr/bin:/bin"
        return path.split(separator: ":").filter { $0.hasPrefix("/") }.map { "\($0)/\(program)" }
    }
}
