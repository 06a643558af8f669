import Glibc

/// cgroup v2: one unified hierarchy. The engine's group enables the memory, pids and cpu
/// controllers for its children; each slot is a leaf below it.
public struct CgroupV2Driver: CgroupDriver {
    public static let requiredControllers = ["memory", "pids", "cpu"]

    /// Mount point of the unified hierarchy (usually /sys/fs/cgroup).
    public let root: String
    /// The engine's group relative to `root` (e.g. "agentgrid/runner").
    public let group: String

    public init(root: String, group: String) {
        self.root = root
        self.group = group
    }

    public var version: CgroupVersion { .v2 }
    public var location: String { "\(root)/\(group)" }

    public func makeSlot(named name: String) throws(SystemError) -> any CgroupSlot {
        try makeDirectories("\(root)/\(group)")
        try enableControllers()
        try makeDirectories("\(root)/\(group)/\(name)")
        return try CgroupV2Slot(directory: "\(root)/\(group)/\(name)", name: name)
    }

    public func removeGroup() throws(SystemError) {
        try removeDirectoryChain("\(root)/\(group)", below: root)
    }

    public func forGroup(_ group: String) -> any CgroupDriver { CgroupV2Driver(root: root, group: group) }

    public func siblingGroups() -> [String] {
        let parent = group.split(separator: "/").dropLast().joined(separator: "/")
        return childCgroups(of: "\(root)/\(parent)").map { parent.isEmpty ? $0 : "\(parent)/\($0)" }
    }

    public func slotNames() -> [String] { childCgroups(of: "\(root)/\(group)") }

    /// Each level from the root down to the engine's group must delegate the controllers to
    /// the next one ("no internal processes": the slots are the only leaves with tasks).
    func enableControllers() throws(SystemError) {
        let enable = Self.requiredControllers.map { "+\($0)" }.joined(separator: " ")
        var level = root
        for component in group.split(separator: "/").map(String.init) + [""] {
            let control = try ControlFile(path: "\(level)/cgroup.subtree_control", writable: true)
            let enabled = Set(try control.read().split(separator: " ").map { $0.trimmingWhitespace() })
            if !Self.requiredControllers.allSatisfy(enabled.contains) { try control.write(enable) }
            if component.isEmpty { break }
            level += "/\(component)"
        }
    }
}

final class CgroupV2Slot: CgroupSlot, @unchecked Sendable {
    let name: String
    let directory: String
    let procs: ControlFile
    let memoryMax: ControlFile
    let swapMax: ControlFile?
    /// memory.peak is resettable per descriptor (Linux 6.12+); older kernels have none.
    let memoryPeak: ControlFile?
    let memoryCurrent: ControlFile
    let memoryEvents: ControlFile
    let pidsMax: ControlFile
    let cpuMax: ControlFile
    let cpuStat: ControlFile
    let kill: ControlFile?
    let freeze: ControlFile
    private var applied: CgroupLimits?
    private var destroyed = false

    init(directory: String, name: String) throws(SystemError) {
        self.name = name
        self.directory = directory
        procs = try ControlFile(path: "\(directory)/cgroup.procs", writable: true)
        memoryMax = try ControlFile(path: "\(directory)/memory.max", writable: true)
        swapMax = try? ControlFile(path: "\(directory)/memory.swap.max", writable: true)
        memoryPeak = try? ControlFile(path: "\(directory)/memory.peak", writable: true)
        memoryCurrent = try ControlFile(path: "\(directory)/memory.current", writable: false)
        memoryEvents = try ControlFile(path: "\(directory)/memory.events", writable: false)
        pidsMax = try ControlFile(path: "\(directory)/pids.max", writable: true)
        cpuMax = try ControlFile(path: "\(directory)/cpu.max", writable: true)
        cpuStat = try ControlFile(path: "\(directory)/cpu.stat", writable: false)
        kill = try? ControlFile(path: "\(directory)/cgroup.kill", writable: true, readable: false)
        freeze = try ControlFile(path: "\(directory)/cgroup.freeze", writable: true)
        // No swap: the memory limit is a RAM limit.
        try swapMax?.write("0")
    }

    var procsDescriptors: [Int32] { [procs.descriptor] }

    func apply(_ limits: CgroupLimits) throws(SystemError) {
        if applied?.memoryBytes != limits.memoryBytes { try memoryMax.write(String(limits.memoryBytes)) }
        if applied?.pids != limits.pids { try pidsMax.write(String(limits.pids)) }
        if applied?.milliCPUs != limits.milliCPUs {
            try cpuMax.write("\(cpuQuotaMicroseconds(milliCPUs: limits.milliCPUs)) \(cpuPeriodMicroseconds)")
        }
        applied = limits
    }

    func beginRun() throws(SystemError) -> CgroupBaseline {
        try memoryPeak?.write("reset")
        return CgroupBaseline(
            cpuNanoseconds: try cpuNanoseconds(),
            oomKills: try memoryEvents.readField("oom_kill") ?? 0,
            memoryBytes: try memoryCurrent.readInteger())
    }

    func cpuNanoseconds() throws(SystemError) -> UInt64 {
        UInt64(max(0, try cpuStat.readField("usage_usec") ?? 0)) * 1_000
    }

    func usage(since baseline: CgroupBaseline) throws(SystemError) -> CgroupUsage {
        let peak = try (memoryPeak ?? memoryCurrent).readInteger()
        return CgroupUsage(
            cpuNanoseconds: try cpuNanoseconds() &- baseline.cpuNanoseconds,
            peakMemoryBytes: max(0, peak - baseline.memoryBytes),
            oomKills: (try memoryEvents.readField("oom_kill") ?? 0) - baseline.oomKills)
    }

    func processes() throws(SystemError) -> [Int32] { parsePids(try procs.read()) }

    func killAll() throws(SystemError) {
        if let kill, try !processes().isEmpty {
            try kill.write("1")  // the kernel kills every member, forks in flight included
        }
        try killUntilEmpty(
            list: processes,
            freeze: { () throws(SystemError) in try freeze.write("1") },
            thaw: { () throws(SystemError) in try freeze.write("0") })
    }

    func destroy() throws(SystemError) {
        if destroyed { return }
        try killAll()
        if rmdir(directory) != 0 && errno != ENOENT { throw SystemError("rmdir", path: directory) }
        closeFiles()
        destroyed = true
    }

    private func closeFiles() {
        procs.close()
        memoryMax.close()
        swapMax?.close()
        memoryPeak?.close()
        memoryCurrent.close()
        memoryEvents.close()
        pidsMax.close()
        cpuMax.close()
        cpuStat.close()
        kill?.close()
        freeze.close()
    }
}
