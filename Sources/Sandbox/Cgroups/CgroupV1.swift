import Glibc

/// cgroup v1: one hierarchy per controller (memory, pids, cpu, cpuacct, freezer), possibly
/// co-mounted. A slot is a directory of the same name in every hierarchy.
public struct CgroupV1Driver: CgroupDriver {
    public static let requiredControllers = ["memory", "pids", "cpu", "cpuacct", "freezer"]

    /// Mount point of each controller's hierarchy (co-mounted ones share a path).
    public let mounts: [String: String]
    /// The engine's group, relative to each hierarchy root (e.g. "agentgrid/runner").
    public let group: String

    public init(mounts: [String: String], group: String) throws(SystemError) {
        for controller in Self.requiredControllers where mounts[controller] == nil {
            throw SystemError("find cgroup v1 controller", path: controller, errno: ENOENT)
        }
        self.mounts = mounts
        self.group = group
    }

    public var version: CgroupVersion { .v1 }
    public var location: String { Self.requiredControllers.map { "\(mounts[$0]!)/\(group)" }.joined(separator: ", ") }

    var hierarchies: [String] {
        var seen: [String] = []
        for controller in Self.requiredControllers {
            let path = mounts[controller]!
            if !seen.contains(path) { seen.append(path) }
        }
        return seen
    }

    public func makeSlot(named name: String) throws(SystemError) -> any CgroupSlot {
        for hierarchy in hierarchies { try makeDirectories("\(hierarchy)/\(group)/\(name)") }
        return try CgroupV1Slot(driver: self, name: name)
    }

    public func removeGroup() throws(SystemError) {
        for hierarchy in hierarchies { try removeDirectoryChain("\(hierarchy)/\(group)", below: hierarchy) }
    }

    public func forGroup(_ group: String) -> any CgroupDriver {
        // Every controller is present (checked when this driver was made), so this cannot throw.
        (try? CgroupV1Driver(mounts: mounts, group: group)) ?? self
    }

    /// Listed from the pids hierarchy: every slot lives in all of them.
    public func siblingGroups() -> [String] {
        let parent = group.split(separator: "/").dropLast().joined(separator: "/")
        return childCgroups(of: "\(mounts["pids"]!)/\(parent)").map { parent.isEmpty ? $0 : "\(parent)/\($0)" }
    }

    public func slotNames() -> [String] { childCgroups(of: "\(mounts["pids"]!)/\(group)") }

    func directory(_ controller: String, slot: String) -> String {
        "\(mounts[controller]!)/\(group)/\(slot)"
    }
}

final class CgroupV1Slot: CgroupSlot, @unchecked Sendable {
    let name: String
    let driver: CgroupV1Driver
    let procsFiles: [ControlFile]
    let memoryLimit: ControlFile
    let memorySwapLimit: ControlFile?
    let memoryPeak: ControlFile
    let memoryUsage: ControlFile
    let oomControl: ControlFile
    let pidsMax: ControlFile
    let cpuQuota: ControlFile
    let cpuUsage: ControlFile
    let freezerState: ControlFile
    let pidsCurrent: ControlFile
    let tasksPath: String
    private var applied: CgroupLimits?
    private var destroyed = false

    init(driver: CgroupV1Driver, name: String) throws(SystemError) {
        self.name = name
        self.driver = driver
        let memory = driver.directory("memory", slot: name)
        let pids = driver.directory("pids", slot: name)
        let cpu = driver.directory("cpu", slot: name)
        procsFiles = try driver.hierarchies.map { hierarchy throws(SystemError) in
            try ControlFile(path: "\(hierarchy)/\(driver.group)/\(name)/cgroup.procs", writable: true, readable: false)
        }
        memoryLimit = try ControlFile(path: "\(memory)/memory.limit_in_bytes", writable: true)
        // Present only when the kernel accounts swap; without it there is no swap to limit.
        memorySwapLimit = try? ControlFile(path: "\(memory)/memory.memsw.limit_in_bytes", writable: true)
        memoryPeak = try ControlFile(path: "\(memory)/memory.max_usage_in_bytes", writable: true)
        memoryUsage = try ControlFile(path: "\(memory)/memory.usage_in_bytes", writable: false)
        oomControl = try ControlFile(path: "\(memory)/memory.oom_control", writable: false)
        pidsMax = try ControlFile(path: "\(pids)/pids.max", writable: true)
        cpuQuota = try ControlFile(path: "\(cpu)/cpu.cfs_quota_us", writable: true)
        cpuUsage = try ControlFile(path: "\(driver.directory("cpuacct", slot: name))/cpuacct.usage", writable: true)
        freezerState = try ControlFile(path: "\(driver.directory("freezer", slot: name))/freezer.state", writable: true)
        pidsCurrent = try ControlFile(path: "\(pids)/pids.current", writable: false)
        tasksPath = "\(pids)/cgroup.procs"
        try ControlFile(path: "\(cpu)/cpu.cfs_period_us", writable: true).write(String(cpuPeriodMicroseconds))
        // Keep the run's pages in RAM: the memory limit is a RAM limit, never a swap budget.
        try? ControlFile(path: "\(memory)/memory.swappiness", writable: true).write("0")
    }

    var procsDescriptors: [Int32] { procsFiles.map(\.descriptor) }

    func apply(_ limits: CgroupLimits) throws(SystemError) {
        if applied?.memoryBytes != limits.memoryBytes {
            let value = String(limits.memoryBytes)
            // memsw must stay >= the memory limit: raise it first, lower it last.
            let raising = (applied?.memoryBytes ?? Int64.max) < limits.memoryBytes
            if raising { try memorySwapLimit?.write(value) }
            try memoryLimit.write(value)
            if !raising { try memorySwapLimit?.write(value) }
        }
        if applied?.pids != limits.pids { try pidsMax.write(String(limits.pids)) }
        if applied?.milliCPUs != limits.milliCPUs {
            try cpuQuota.write(String(cpuQuotaMicroseconds(milliCPUs: limits.milliCPUs)))
        }
        applied = limits
    }

    func beginRun() throws(SystemError) -> CgroupBaseline {
        try memoryPeak.write("0")  // resets the peak to current usage
        try cpuUsage.write("0")
        return CgroupBaseline(
            cpuNanoseconds: 0,
            oomKills: try oomControl.readField("oom_kill") ?? 0,
            memoryBytes: try memoryUsage.readInteger())
    }

    func cpuNanoseconds() throws(SystemError) -> UInt64 { UInt64(max(0, try cpuUsage.readInteger())) }

    func usage(since baseline: CgroupBaseline) throws(SystemError) -> CgroupUsage {
        CgroupUsage(
            cpuNanoseconds: try cpuNanoseconds() &- baseline.cpuNanoseconds,
            // Page cache charged by earlier runs stays with the slot; count only what this run added.
            peakMemoryBytes: max(0, try memoryPeak.readInteger() - baseline.memoryBytes),
            oomKills: (try oomControl.readField("oom_kill") ?? 0) - baseline.oomKills)
    }

    /// v1 caches a cgroup.procs listing per open file for a second, so a descriptor kept open
    /// would keep answering with a stale list: open it afresh. pids.current, a plain counter,
    /// answers the common "already empty" case without listing at all.
    func processes() throws(SystemError) -> [Int32] {
        if try pidsCurrent.readInteger() == 0 { return [] }
        return parsePids(try ControlFile(path: tasksPath, writable: false).read())
    }

    func killAll() throws(SystemError) {
        // Freezing first means nothing can fork between reading the list and the kills.
        try killUntilEmpty(
            list: processes,
            freeze: { () throws(SystemError) in try freezerState.write("FROZEN") },
            thaw: { () throws(SystemError) in try freezerState.write("THAWED") })
    }

    func destroy() throws(SystemError) {
        if destroyed { return }
        try killAll()
        for hierarchy in driver.hierarchies {
            let path = "\(hierarchy)/\(driver.group)/\(name)"
            if rmdir(path) != 0 && errno != ENOENT { throw SystemError("rmdir", path: path) }
        }
        closeFiles()
        destroyed = true
    }

    private func closeFiles() {
        for file in procsFiles { file.close() }
        memoryLimit.close()
        memorySwapLimit?.close()
        memoryPeak.close()
        memoryUsage.close()
        oomControl.close()
        pidsMax.close()
        cpuQuota.close()
        cpuUsage.close()
        freezerState.close()
        pidsCurrent.close()
    }
}
