import Glibc
import Testing
@testable import Sandbox

/// CgroupProbe on sample /proc/self/mountinfo texts, with the cgroup2 controller list injected.
@Suite struct CgroupProbeTests {
    /// A systemd host with only the unified hierarchy.
    static let pureV2 = """
        22 28 0:21 / /proc rw,nosuid,nodev,noexec,relatime shared:12 - proc proc rw
        26 28 0:5 / /dev rw,nosuid,relatime shared:2 - devtmpfs udev rw,size=4000000k
        28 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw,errors=remount-ro
        30 23 0:26 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:4 - cgroup2 cgroup2 rw,nsdelegate,memory_recursiveprot
        """

    /// This machine: every v1 controller in its own hierarchy, plus a cgroup2 mount with only hugetlb.
    static let hybrid = """
        31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
        32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu
        33 31 0:30 / /sys/fs/cgroup/cpuacct rw,relatime - cgroup cgroup rw,cpuacct
        34 31 0:31 / /sys/fs/cgroup/cpuset rw,relatime - cgroup cgroup rw,cpuset
        35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
        36 31 0:33 / /sys/fs/cgroup/devices rw,relatime - cgroup cgroup rw,devices
        37 31 0:34 / /sys/fs/cgroup/freezer rw,relatime - cgroup cgroup rw,freezer
        38 31 0:35 / /sys/fs/cgroup/blkio rw,relatime - cgroup cgroup rw,blkio
        39 31 0:36 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids
        40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd
        41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw,favordynmods
        """

    /// Debian/Ubuntu-style v1: cpu and cpuacct co-mounted (plus the legacy symlinks' targets).
    static let coMounted = """
        25 24 0:22 / /sys/fs/cgroup/systemd rw,nosuid,nodev,noexec,relatime shared:9 - cgroup cgroup rw,xattr,name=systemd
        28 24 0:25 / /sys/fs/cgroup/cpu,cpuacct rw,nosuid,nodev,noexec,relatime shared:10 - cgroup cgroup rw,cpu,cpuacct
        29 24 0:26 / /sys/fs/cgroup/memory rw,nosuid,nodev,noexec,relatime shared:11 - cgroup cgroup rw,memory
        30 24 0:27 / /sys/fs/cgroup/pids rw,nosuid,nodev,noexec,relatime shared:12 - cgroup cgroup rw,pids
        31 24 0:28 / /sys/fs/cgroup/freezer rw,nosuid,nodev,noexec,relatime shared:13 - cgroup cgroup rw,freezer
        """

    private static func controllers(_ map: [String: String]) -> (String) -> String? {
        { map[$0] }
    }

    @Test func pureV2HostPicksV2() throws {
        var asked: [String] = []
        let probe = CgroupProbe(mountinfo: Self.pureV2) { path in
            asked.append(path)
            return "cpuset cpu io memory hugetlb pids rdma misc\n"
        }
        #expect(asked == ["/sys/fs/cgroup/cgroup.controllers"])
        #expect(probe.mounts == [CgroupProbe.Mount(
            path: "/sys/fs/cgroup", filesystem: "cgroup2", options: ["nsdelegate", "memory_recursiveprot"],
            mountOptions: ["rw", "nosuid", "nodev", "noexec", "relatime"])])
        #expect(probe.unifiedMount == "/sys/fs/cgroup")
        #expect(probe.unifiedControllers == ["cpuset", "cpu", "io", "memory", "hugetlb", "pids", "rdma", "misc"])
        #expect(probe.v1Mounts.isEmpty)
        #expect(probe.v1Controllers == [])
        #expect(probe.preferredVersion == .v2)
        #expect(probe.missingReason == nil)
        let driver = try probe.driver(group: "agentgrid/runner")
        #expect(driver.version == .v2)
        #expect(driver.location == "/sys/fs/cgroup/agentgrid/runner")
    }

    @Test func hybridHostWithAnEmptyUnifiedHierarchyPicksV1() throws {
        let probe = CgroupProbe(mountinfo: Self.hybrid, readControllers: Self.controllers([
            "/sys/fs/cgroup/unified/cgroup.controllers": "hugetlb\n",
        ]))
        #expect(probe.unifiedMount == "/sys/fs/cgroup/unified")
        #expect(probe.unifiedControllers == ["hugetlb"])
        #expect(probe.v1Controllers == ["memory", "pids", "cpu", "cpuacct", "freezer"])
        #expect(probe.v1Mounts["memory"] == "/sys/fs/cgroup/memory")
        #expect(probe.v1Mounts["cpu"] == "/sys/fs/cgroup/cpu")
        #expect(probe.v1Mounts["cpuacct"] == "/sys/fs/cgroup/cpuacct")
        #expect(probe.v1Mounts["freezer"] == "/sys/fs/cgroup/freezer")
        #expect(probe.v1Mounts["pids"] == "/sys/fs/cgroup/pids")
        #expect(probe.v1Mounts["name=systemd"] == "/sys/fs/cgroup/systemd")
        // The tmpfs holding the hierarchies is not a cgroup mount.
        #expect(!probe.mounts.contains { $0.path == "/sys/fs/cgroup" })
        #expect(probe.mounts.count == 10)
        #expect(probe.preferredVersion == .v1)
        #expect(probe.missingReason == nil)

        let driver = try #require(try probe.driver(group: "agentgrid/x") as? CgroupV1Driver)
        #expect(driver.group == "agentgrid/x")
        #expect(driver.hierarchies == [
            "/sys/fs/cgroup/memory", "/sys/fs/cgroup/pids", "/sys/fs/cgroup/cpu", "/sys/fs/cgroup/cpuacct",
            "/sys/fs/cgroup/freezer",
        ])
        // Forcing v2 uses the unified mount even though it lacks the controllers.
        let forced = try #require(try probe.driver(group: "agentgrid/x", forcing: .v2) as? CgroupV2Driver)
        #expect(forced.root == "/sys/fs/cgroup/unified")
    }

    @Test func hybridHostWithFullUnifiedHierarchyPrefersV2() {
        let probe = CgroupProbe(mountinfo: Self.hybrid, readControllers: Self.controllers([
            "/sys/fs/cgroup/unified/cgroup.controllers": "memory pids cpu",
        ]))
        #expect(probe.preferredVersion == .v2)
    }

    @Test func coMountedCpuAndCpuacctShareOneHierarchy() throws {
        let probe = CgroupProbe(mountinfo: Self.coMounted, readControllers: { _ in
            Issue.record("no cgroup2 mount: nothing to read")
            return nil
        })
        #expect(probe.unifiedMount == nil)
        #expect(probe.unifiedControllers == [])
        #expect(probe.v1Mounts["cpu"] == "/sys/fs/cgroup/cpu,cpuacct")
        #expect(probe.v1Mounts["cpuacct"] == "/sys/fs/cgroup/cpu,cpuacct")
        #expect(probe.v1Mounts["name=systemd"] == "/sys/fs/cgroup/systemd")
        // "xattr" is an option of that mount too; harmless, never a required controller.
        #expect(probe.v1Mounts["xattr"] == "/sys/fs/cgroup/systemd")
        #expect(probe.preferredVersion == .v1)
        let driver = try #require(try probe.driver(group: "g") as? CgroupV1Driver)
        #expect(driver.hierarchies == [
            "/sys/fs/cgroup/memory", "/sys/fs/cgroup/pids", "/sys/fs/cgroup/cpu,cpuacct", "/sys/fs/cgroup/freezer",
        ])
        #expect(throws: SystemError("find cgroup2 mount", errno: ENOENT)) {
            try probe.driver(group: "g", forcing: .v2)
        }
    }

    @Test func missingControllersLeaveNoDriverAndNameThem() {
        let text = """
            35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
            32 31 0:29 / /sys/fs/cgroup/cpu,cpuacct rw,relatime - cgroup cgroup rw,cpu,cpuacct
            41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
            """
        let probe = CgroupProbe(mountinfo: text, readControllers: { _ in "memory io\n" })
        #expect(probe.preferredVersion == nil)
        #expect(probe.v1Controllers == ["memory", "cpu", "cpuacct"])
        let reason = "cgroup v2 lacks controllers [pids, cpu] and cgroup v1 lacks [pids, freezer]"
        #expect(probe.missingReason == reason)
        #expect(throws: SystemError("find usable cgroups (\(reason))", errno: ENOENT)) {
            try probe.driver(group: "g")
        }
    }

    @Test func noCgroupsAtAll() {
        let probe = CgroupProbe(mountinfo: "28 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw\n", readControllers: { _ in nil })
        #expect(probe.mounts.isEmpty)
        #expect(probe.preferredVersion == nil)
        #expect(probe.missingReason
            == "cgroup v2 lacks controllers [memory, pids, cpu] and cgroup v1 lacks [memory, pids, cpu, cpuacct, freezer]")
    }

    @Test func unreadableControllerListCountsAsEmpty() {
        let probe = CgroupProbe(mountinfo: Self.pureV2, readControllers: { _ in nil })
        #expect(probe.unifiedMount == "/sys/fs/cgroup")
        #expect(probe.unifiedControllers == [])
        #expect(probe.preferredVersion == nil)
    }

    @Test func escapedMountPathsAreUnescaped() {
        let text = """
            50 31 0:40 / /mnt/my\\040cgroups/v2 rw,relatime - cgroup2 cgroup2 rw
            51 31 0:41 / /mnt/tab\\011and\\134backslash rw,relatime - cgroup cgroup rw,memory
            """
        var asked: [String] = []
        let probe = CgroupProbe(mountinfo: text) { path in
            asked.append(path)
            return "memory pids cpu"
        }
        #expect(probe.unifiedMount == "/mnt/my cgroups/v2")
        #expect(asked == ["/mnt/my cgroups/v2/cgroup.controllers"])
        #expect(probe.v1Mounts["memory"] == "/mnt/tab\tand\\backslash")
        #expect(probe.preferredVersion == .v2)
    }

    @Test func unescapeLeavesOrdinaryBackslashesAlone() {
        #expect(unescapeMountPath("/plain/path") == "/plain/path")
        #expect(unescapeMountPath("/a\\040b\\040c") == "/a b c")
        #expect(unescapeMountPath("/a\\0") == "/a\\0")        // too short to be an escape
        #expect(unescapeMountPath("/a\\999b") == "/a\\999b")  // not octal
    }

    @Test func malformedLinesAreSkipped() {
        let text = """
            garbage
            1 2 3 - cgroup cgroup rw,memory
            32 31 0:29 / /sys/fs/cgroup/pids rw - cgroup cgroup
            35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
            """
        let probe = CgroupProbe(mountinfo: text, readControllers: { _ in nil })
        #expect(probe.mounts.map(\.path) == ["/sys/fs/cgroup/memory"])
    }

    // MARK: - favordynmods

    @Test func migrationTuningStateFollowsTheCgroup2Options() {
        let tuned = CgroupProbe(mountinfo: Self.hybrid, readControllers: { _ in "hugetlb" })
        #expect(CgroupMigrationTuning.state(probe: tuned) == .enabled)
        #expect(CgroupMigrationTuning.enable(probe: tuned) == .enabled)  // already on: no remount
        let untuned = CgroupProbe(mountinfo: Self.pureV2, readControllers: { _ in "memory pids cpu" })
        #expect(CgroupMigrationTuning.state(probe: untuned) == .unavailable)
        let v1Only = CgroupProbe(mountinfo: Self.coMounted, readControllers: { _ in nil })
        #expect(CgroupMigrationTuning.enable(probe: v1Only) == .unavailable)
    }

    @Test func remountKeepsThePerMountFlags() {
        #expect(CgroupMigrationTuning.perMountFlags(["rw", "nosuid", "nodev", "noexec", "relatime"])
            == UInt(MS_NOSUID) | UInt(MS_NODEV) | UInt(MS_NOEXEC) | UInt(MS_RELATIME))
        #expect(CgroupMigrationTuning.perMountFlags(["ro", "shared:4"]) == UInt(MS_RDONLY))
        #expect(CgroupMigrationTuning.perMountFlags([]) == 0)
    }

    /// mountinfo lines always have a per-mount options field (the 6th), but `parse` guards only
    /// for 5 fields before reading `left[5]`: a 5-field line traps with "Index out of range".
    @Test func lineWithoutMountOptionsIsSkippedNotATrap() async {
        do {
            await #expect(processExitsWith: .success) {
                let probe = CgroupProbe(mountinfo: "32 31 0:29 / /sys/fs/cgroup/memory - cgroup cgroup rw,memory",
                                        readControllers: { _ in nil })
                precondition(probe.mounts.count <= 1)
            }
        }
    }
}
