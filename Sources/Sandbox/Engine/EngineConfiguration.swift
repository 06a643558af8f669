/// How an engine claims its share of the host.
public struct EngineConfiguration: Sendable {
    /// Runs at once; each slot has its own cgroup and host uid.
    public var slots: Int
    /// Names this engine's cgroup group (`agentgrid/<instance>`) so several engines (a runner,
    /// an operator's one-shot `exec`) never share a slot.
    public var instance: String
    /// State directory: the empty directory new roots are mounted on. (Host uid leases and
    /// instance locks are host-wide: /run/agentgrid-ids, /run/agentgrid-instances.)
    public var stateDirectory: String
    /// First host uid/gid of the range slots draw from; slot ids are never 0 on the host.
    public var hostIDRange: Range<UInt32>
    /// The uid/gid a program has inside a user namespace (mapped to the slot's host id).
    public var namespacedID: UInt32
    /// Force a cgroup driver instead of probing.
    public var cgroupVersion: CgroupVersion?
    /// Remount the host's cgroup2 hierarchy with `favordynmods` so joining a slot's cgroup
    /// does not wait for an RCU grace period (see `CgroupMigrationTuning`).
    public var tuneCgroupMigrations: Bool

    public init(
        slots: Int = HostInfo.onlineCPUs, instance: String, stateDirectory: String = "/run/agentgrid",
        hostIDRange: Range<UInt32> = 700_000..<704_096, namespacedID: UInt32 = 1000,
        cgroupVersion: CgroupVersion? = nil, tuneCgroupMigrations: Bool = true
    ) {
        self.tuneCgroupMigrations = tuneCgroupMigrations
        self.slots = slots
        self.instance = instance
        self.stateDirectory = stateDirectory
        self.hostIDRange = hostIDRange
        self.namespacedID = namespacedID
        self.cgroupVersion = cgroupVersion
    }
}
