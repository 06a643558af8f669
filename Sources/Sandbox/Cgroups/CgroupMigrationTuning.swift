import Glibc

/// Moving a task between cgroups takes the kernel's global cgroup_threadgroup_rwsem for
/// writing, which by default waits for an RCU grace period: measured here, joining a slot's
/// v1 cgroups cost 3–25 ms per run (p99 of /bin/true: 25.5 ms). The cgroup2 mount option
/// `favordynmods` keeps that lock in its writer-friendly mode for every hierarchy (p99: 7 ms),
/// at the price of slightly slower fork/exit elsewhere on the host — the right trade on a
/// runner host. v1 hierarchies cannot take the option, but the lock is shared, so a cgroup2
/// mount (the unified one on hybrid hosts) is enough.
public enum CgroupMigrationTuning {
    public enum State: String, Sendable, Codable {
        case enabled, enabledNow = "enabled_now", unavailable
    }

    /// Remounts the host's cgroup2 mount with favordynmods, keeping its other options.
    public static func enable(probe: CgroupProbe) -> State {
        guard let mount = probe.mounts.first(where: { $0.filesystem == "cgroup2" }) else { return .unavailable }
        if mount.options.contains("favordynmods") { return .enabled }
        let flags = UInt(MS_REMOUNT) | perMountFlags(mount.mountOptions)
        let data = (mount.options.filter { $0 != "favordynmods" } + ["favordynmods"]).joined(separator: ",")
        return Glibc.mount(nil, mount.path, nil, flags, data) == 0 ? .enabledNow : .unavailable
    }

    public static func state(probe: CgroupProbe) -> State {
        probe.mounts.contains { $0.filesystem == "cgroup2" && $0.options.contains("favordynmods") } ? .enabled : .unavailable
    }

    /// A remount replaces the per-mount flags: carry them over so nosuid/nodev/noexec stay.
    static func perMountFlags(_ options: [String]) -> UInt {
        let known: [String: Int] = [
            "ro": Int(MS_RDONLY), "nosuid": Int(MS_NOSUID), "nodev": Int(MS_NODEV), "noexec": Int(MS_NOEXEC),
            "noatime": Int(MS_NOATIME), "nodiratime": Int(MS_NODIRATIME), "relatime": Int(MS_RELATIME),
        ]
        return options.reduce(0) { $0 | UInt(known[$1] ?? 0) }
    }
}
