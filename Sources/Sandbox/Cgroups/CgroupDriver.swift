import Glibc

/// The limits a run's cgroup enforces.
public struct CgroupLimits: Sendable, Equatable {
    public var memoryBytes: Int64
    public var pids: Int64
    public var milliCPUs: Int64
    public init(memoryBytes: Int64, pids: Int64, milliCPUs: Int64) {
        self.memoryBytes = memoryBytes
        self.pids = pids
        self.milliCPUs = milliCPUs
    }
}

/// What a run consumed, read from its cgroup after it ended.
public struct CgroupUsage: Sendable, Equatable {
    public var cpuNanoseconds: UInt64
    public var peakMemoryBytes: Int64
    public var oomKills: Int64
}

/// Counters sampled when a run starts, so usage is reported for that run alone even though
/// the slot's cgroup is reused.
public struct CgroupBaseline: Sendable, Equatable {
    var cpuNanoseconds: UInt64
    var oomKills: Int64
    var memoryBytes: Int64
}

public enum CgroupVersion: String, Sendable, Codable {
    case v1, v2
}

/// A cgroup hierarchy the engine creates slot cgroups in.
public protocol CgroupDriver: Sendable {
    var version: CgroupVersion { get }
    /// Where the engine's cgroups live (for operators and crash recovery).
    var location: String { get }
    /// Creates (or adopts, if left over) the cgroup of one slot.
    func makeSlot(named name: String) throws(SystemError) -> any CgroupSlot
    /// Removes the engine's own parent cgroup once every slot is destroyed.
    func removeGroup() throws(SystemError)
    /// The same driver for another engine's group (for sweeping up after a dead one).
    func forGroup(_ group: String) -> any CgroupDriver
    /// Names of the engine groups that exist beside ours (under the shared parent), and of the
    /// slot cgroups inside one of them.
    func siblingGroups() -> [String]
    func slotNames() -> [String]
}

/// Subdirectories of a cgroup directory (the child cgroups).
func childCgroups(of path: String) -> [String] {
    guard let directory = opendir(path) else { return [] }
    defer { closedir(directory) }
    var names: [String] = []
    while let entry = readdir(directory) {
        guard entry.pointee.d_type == UInt8(DT_DIR) else { continue }
        let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        if name != "." && name != ".." { names.append(name) }
    }
    return names.sorted()
}

/// One reusable cgroup: a sandbox slot runs one program at a time in it.
public protocol CgroupSlot: AnyObject, Sendable {
    var name: String { get }
    /// Open `cgroup.procs` descriptors the child writes "0" to, to join before it execs.
    var procsDescriptors: [Int32] { get }
    /// Writes the limits (only those that changed since the last run).
    func apply(_ limits: CgroupLimits) throws(SystemError)
    /// Resets the peak and samples counters right before a run starts.
    func beginRun() throws(SystemError) -> CgroupBaseline
    /// CPU time consumed by everything in the cgroup so far.
    func cpuNanoseconds() throws(SystemError) -> UInt64
    /// Usage since `baseline`.
    func usage(since baseline: CgroupBaseline) throws(SystemError) -> CgroupUsage
    /// Host pids of every process in the cgroup.
    func processes() throws(SystemError) -> [Int32]
    /// Kills every process in the cgroup and waits until it is empty.
    func killAll() throws(SystemError)
    /// Kills what is left and removes the cgroup.
    func destroy() throws(SystemError)
}
