import Foundation
import Glibc
import Testing
@testable import Sandbox

/// A fake cgroupfs: a temp directory tree holding the control files a driver opens. Regular
/// files differ from cgroupfs in one way that matters here: `ControlFile.write` is a pwrite at
/// offset 0 without truncation, so tests start every file empty (or reset it with `set`) and
/// then read back exactly what the driver wrote.
private final class FakeCgroupFS {
    let root: String

    init() throws {
        root = NSTemporaryDirectory() + "fake-cgroupfs-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(atPath: root) }

    /// Creates or truncates `relative` (and its directories) with `contents`.
    func set(_ relative: String, _ contents: String = "") throws {
        let url = URL(fileURLWithPath: root + "/" + relative)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data(contents.utf8).write(to: url)
    }

    func read(_ relative: String) throws -> String {
        try String(contentsOfFile: root + "/" + relative, encoding: .utf8)
    }

    func exists(_ relative: String) -> Bool {
        FileManager.default.fileExists(atPath: root + "/" + relative)
    }

    func remove(_ relative: String) throws {
        try FileManager.default.removeItem(atPath: root + "/" + relative)
    }

    /// Removes the regular files in a directory (a real cgroup directory is empty to rmdir).
    func removeFiles(in relative: String) throws {
        for name in try FileManager.default.contentsOfDirectory(atPath: root + "/" + relative) {
            var isDirectory: ObjCBool = false
            let path = root + "/" + relative + "/" + name
            if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), !isDirectory.boolValue {
                try FileManager.default.removeItem(atPath: path)
            }
        }
    }
}

/// Records the order in which files of one directory are modified.
private final class ModificationOrder {
    let descriptor: Int32

    init(watching directory: String) throws {
        descriptor = inotify_init1(Int32(IN_NONBLOCK | IN_CLOEXEC))
        guard descriptor >= 0 else { throw SystemError("inotify_init1") }
        guard inotify_add_watch(descriptor, directory, UInt32(IN_MODIFY)) >= 0 else {
            throw SystemError("inotify_add_watch", path: directory)
        }
    }

    deinit { close(descriptor) }

    /// The names modified since the last call, in order (consecutive repeats collapsed).
    func names() -> [String] {
        var result: [String] = []
        var buffer = [UInt8](repeating: 0, count: 16_384)
        while true {
            let count = buffer.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
            if count <= 0 { break }
            var offset = 0
            while offset + 16 <= count {
                let length = buffer.withUnsafeBytes { Int($0.loadUnaligned(fromByteOffset: offset + 12, as: UInt32.self)) }
                let nameBytes = buffer[(offset + 16)..<(offset + 16 + length)].prefix { $0 != 0 }
                let name = String(decoding: nameBytes, as: UTF8.self)
                if result.last != name { result.append(name) }
                offset += 16 + length
            }
        }
        return result
    }
}

private let sentinel = "sentinel"

/// Runs blocking work (killAll's polling loop) on a thread of its own: the few cooperative
/// threads are shared with every other suite's timers and must not be held for seconds.
private func onOwnThread<T: Sendable>(_ body: @escaping @Sendable () -> T) async -> T {
    await withCheckedContinuation { continuation in
        Thread { continuation.resume(returning: body()) }.start()
    }
}

private func killAllOffPool(_ slot: any CgroupSlot) async -> Result<Void, SystemError> {
    await onOwnThread { Result { () throws(SystemError) in try slot.killAll() } }
}

// MARK: - cgroup v2

/// Namespace for the driver suites, so `--filter CgroupDriverTests` selects them all.
@Suite enum CgroupDriverTests {}

extension CgroupDriverTests {
    @Suite struct V2Driver {
        static let group = "agentgrid/test"
        static let slotPath = "agentgrid/test/slot0"

        /// The files a v2 slot and its parent levels open, all empty except the counters.
        private func populate(_ fs: FakeCgroupFS, optional: Bool = true) throws {
            for level in ["", "agentgrid/", "agentgrid/test/"] { try fs.set(level + "cgroup.subtree_control") }
            let slot = Self.slotPath + "/"
            for file in ["cgroup.procs", "memory.max", "pids.max", "cpu.max", "cgroup.freeze"] { try fs.set(slot + file) }
            try fs.set(slot + "memory.current", "8192\n")
            try fs.set(slot + "memory.events", "low 0\nhigh 0\nmax 0\noom 0\noom_kill 1\noom_group_kill 0\n")
            try fs.set(slot + "cpu.stat", "usage_usec 1500\nuser_usec 1000\nsystem_usec 500\n")
            if optional {
                for file in ["memory.swap.max", "memory.peak", "cgroup.kill"] { try fs.set(slot + file) }
            }
        }

        private func makeSlot(_ fs: FakeCgroupFS) throws -> (CgroupV2Driver, CgroupV2Slot) {
            let driver = CgroupV2Driver(root: fs.root, group: Self.group)
            let slot = try #require(try driver.makeSlot(named: "slot0") as? CgroupV2Slot)
            return (driver, slot)
        }

        @Test func describesItself() {
            let driver = CgroupV2Driver(root: "/sys/fs/cgroup", group: "agentgrid/runner")
            #expect(driver.version == .v2)
            #expect(driver.location == "/sys/fs/cgroup/agentgrid/runner")
            #expect(CgroupV2Driver.requiredControllers == ["memory", "pids", "cpu"])
        }

        @Test func makeSlotDelegatesControllersAtEveryLevelAndDisablesSwap() throws {
            let fs = try FakeCgroupFS()
            try populate(fs)
            let (_, slot) = try makeSlot(fs)
            #expect(try fs.read("cgroup.subtree_control") == "+memory +pids +cpu")
            #expect(try fs.read("agentgrid/cgroup.subtree_control") == "+memory +pids +cpu")
            #expect(try fs.read("agentgrid/test/cgroup.subtree_control") == "+memory +pids +cpu")
            #expect(try fs.read(Self.slotPath + "/memory.swap.max") == "0")
            #expect(slot.name == "slot0")
            #expect(slot.directory == fs.root + "/" + Self.slotPath)
            #expect(slot.procsDescriptors.count == 1)
            #expect(slot.procsDescriptors[0] >= 0)
        }

        @Test func levelsThatAlreadyDelegateAreLeftAlone() throws {
            let fs = try FakeCgroupFS()
            try populate(fs)
            try fs.set("cgroup.subtree_control", "cpuset cpu io memory pids\n")
            // Only two of three: the level still gets the write.
            try fs.set("agentgrid/cgroup.subtree_control", "memory pids\n")
            _ = try makeSlot(fs)
            #expect(try fs.read("cgroup.subtree_control") == "cpuset cpu io memory pids\n")
            #expect(try fs.read("agentgrid/cgroup.subtree_control") == "+memory +pids +cpu")
            #expect(try fs.read("agentgrid/test/cgroup.subtree_control") == "+memory +pids +cpu")
        }

        @Test func makeSlotFailsOnAMissingRequiredFile() throws {
            let fs = try FakeCgroupFS()
            try populate(fs)
            try fs.remove(Self.slotPath + "/memory.max")
            let driver = CgroupV2Driver(root: fs.root, group: Self.group)
            let error = #expect(throws: SystemError.self) { try driver.makeSlot(named: "slot0") }
            #expect(error?.operation == "open")
            #expect(error?.path == fs.root + "/" + Self.slotPath + "/memory.max")
            #expect(error?.errno == ENOENT)
        }

        @Test func optionalFilesMayBeMissing() throws {
            let fs = try FakeCgroupFS()
            try populate(fs, optional: false)
            let (_, slot) = try makeSlot(fs)
            #expect(slot.swapMax == nil)
            #expect(slot.memoryPeak == nil)
            #expect(slot.kill == nil)
            try slot.apply(CgroupLimits(memoryBytes: 1 << 20, pids: 4, milliCPUs: 1_000))
            #expect(try fs.read(Self.slotPath + "/memory.max") == "1048576")
            try slot.killAll()
            #expect(try fs.read(Self.slotPath + "/cgroup.freeze") == "")
        }

        @Test func applyWritesTheLimits() throws {
            let fs = try FakeCgroupFS()
            try populate(fs)
            let (_, slot) = try makeSlot(fs)
            try slot.apply(CgroupLimits(memoryBytes: 64 << 20, pids: 32, milliCPUs: 500))
            #expect(try fs.read(Self.slotPath + "/memory.max") == "67108864")
            #expect(try fs.read(Self.slotPath + "/pids.max") == "32")
            #expect(try fs.read(Self.slotPath + "/cpu.max") == "50000 100000")
        }

        @Test(arguments: [
            (Int64(500), "50000 100000"), (1_000, "100000 100000"), (2_500, "250000 100000"),
            (10, "1000 100000"), (9, "1000 100000"), (1, "1000 100000"),
        ])
        func cpuMaxHasAOneMillisecondMinimumQuota(milliCPUs: Int64, expected: String) throws {
            let fs = try FakeCgroupFS()
            try populate(fs)
            let (_, slot) = try makeSlot(fs)
            try slot.apply(CgroupLimits(memoryBytes: 1 << 20, pids: 1, milliCPUs: milliCPUs))
            #expect(try fs.read(Self.slotPath + "/cpu.max") == expected)
        }

        @Test func applySkipsUnchangedValues() throws {
            let fs = try FakeCgroupFS()
            try populate(fs)
            let (_, slot) = try makeSlot(fs)
            let limits = CgroupLimits(memoryBytes: 64 << 20, pids: 32, milliCPUs: 500)
            try slot.apply(limits)
            for file in ["memory.max", "pids.max", "cpu.max"] { try fs.set(Self.slotPath + "/" + file, sentinel) }
            try slot.apply(limits)
            for file in ["memory.max", "pids.max", "cpu.max"] {
                #expect(try fs.read(Self.slotPath + "/" + file) == sentinel, "\(file) rewritten")
            }
            // Only what changed is written.
            for file in ["memory.max", "pids.max", "cpu.max"] { try fs.set(Self.slotPath + "/" + file) }
            try slot.apply(CgroupLimits(memoryBytes: 64 << 20, pids: 7, milliCPUs: 500))
            #expect(try fs.read(Self.slotPath + "/memory.max") == "")
            #expect(try fs.read(Self.slotPath + "/pids.max") == "7")
            #expect(try fs.read(Self.slotPath + "/cpu.max") == "")
        }

        @Test func beginRunResetsThePeakAndUsageIsSinceTheBaseline() throws {
            let fs = try FakeCgroupFS()
            try populate(fs)
            let (_, slot) = try makeSlot(fs)
            let baseline = try slot.beginRun()
            #expect(try fs.read(Self.slotPath + "/memory.peak") == "reset")
            #expect(baseline == CgroupBaseline(cpuNanoseconds: 1_500_000, oomKills: 1, memoryBytes: 8192))

            try fs.set(Self.slotPath + "/memory.peak", "1056768\n")
            try fs.set(Self.slotPath + "/cpu.stat", "usage_usec 4000\nuser_usec 3000\nsystem_usec 1000\n")
            try fs.set(Self.slotPath + "/memory.events", "low 0\nhigh 0\nmax 5\noom 2\noom_kill 3\noom_group_kill 0\n")
            #expect(try slot.cpuNanoseconds() == 4_000_000)
            let usage = try slot.usage(since: baseline)
            #expect(usage == CgroupUsage(cpuNanoseconds: 2_500_000, peakMemoryBytes: 1_048_576, oomKills: 2))
        }

        @Test func usageWithoutMemoryPeakUsesMemoryCurrentAndNeverGoesNegative() throws {
            let fs = try FakeCgroupFS()
            try populate(fs, optional: false)
            let (_, slot) = try makeSlot(fs)
            let baseline = try slot.beginRun()
            try fs.set(Self.slotPath + "/memory.current", "20480\n")
            #expect(try slot.usage(since: baseline).peakMemoryBytes == 12_288)
            try fs.set(Self.slotPath + "/memory.current", "4096\n")  // page cache reclaimed below the baseline
            #expect(try slot.usage(since: baseline).peakMemoryBytes == 0)
        }

        @Test func missingOomKillFieldCountsAsZero() throws {
            let fs = try FakeCgroupFS()
            try populate(fs)
            try fs.set(Self.slotPath + "/memory.events", "low 0\nhigh 0\n")
            let (_, slot) = try makeSlot(fs)
            let baseline = try slot.beginRun()
            #expect(baseline.oomKills == 0)
            try fs.set(Self.slotPath + "/memory.peak", "8192\n")
            try fs.set(Self.slotPath + "/memory.events", "low 0\noom_kill 4\n")
            #expect(try slot.usage(since: baseline).oomKills == 4)
        }

        @Test func processesParsesPids() throws {
            let fs = try FakeCgroupFS()
            try populate(fs)
            let (_, slot) = try makeSlot(fs)
            #expect(try slot.processes() == [])
            try fs.set(Self.slotPath + "/cgroup.procs", "12\n345\n\n6789\n")
            #expect(try slot.processes() == [12, 345, 6789])
        }

        @Test func killAllOnAnEmptyCgroupReturnsWithoutWriting() throws {
            let fs = try FakeCgroupFS()
            try populate(fs)
            let (_, slot) = try makeSlot(fs)
            try slot.killAll()
            #expect(try fs.read(Self.slotPath + "/cgroup.kill") == "")
            #expect(try fs.read(Self.slotPath + "/cgroup.freeze") == "")
        }

        /// A member that never leaves (the fake file never changes): cgroup.kill, then freeze /
        /// SIGKILL / thaw rounds, then EBUSY after ~2 s. The pid is above any pid_max, so the
        /// SIGKILLs hit nothing.
        @Test func killAllGivesUpWithEBUSYWhenTheCgroupNeverEmpties() async throws {
            let fs = try FakeCgroupFS()
            try populate(fs)
            let (_, slot) = try makeSlot(fs)
            try fs.set(Self.slotPath + "/cgroup.procs", "2000000000\n")
            let started = ContinuousClock.now
            guard case .failure(let error) = await killAllOffPool(slot) else {
                Issue.record("killAll returned although the cgroup never empties")
                return
            }
            #expect(error.errno == EBUSY)
            #expect(error.operation.contains("2000000000"))
            #expect(ContinuousClock.now - started >= .seconds(2))
            #expect(try fs.read(Self.slotPath + "/cgroup.kill") == "1")
            #expect(try fs.read(Self.slotPath + "/cgroup.freeze") == "0")  // thawed after the last round
        }

        @Test func destroyRemovesTheSlotDirectory() throws {
            let fs = try FakeCgroupFS()
            try populate(fs)
            let (_, slot) = try makeSlot(fs)
            try fs.removeFiles(in: Self.slotPath)
            try slot.destroy()
            #expect(!fs.exists(Self.slotPath))
            #expect(fs.exists("agentgrid/test"))
            // Idempotent: a second destroy finds nothing (ENOENT) and succeeds.
            try slot.destroy()
        }

        @Test func destroyReportsADirectoryItCannotRemove() throws {
            let fs = try FakeCgroupFS()
            try populate(fs)
            let (_, slot) = try makeSlot(fs)
            // The control files are still there: rmdir fails with ENOTEMPTY.
            let error = #expect(throws: SystemError.self) { try slot.destroy() }
            #expect(error?.operation == "rmdir")
            #expect(error?.path == fs.root + "/" + Self.slotPath)
            #expect(error?.errno == ENOTEMPTY)
        }

        /// A slot destroyed as the kernel would allow it (its control files gone), leaving the
        /// group levels as empty directories for removeGroup.
        private func destroyedSlotLeavingEmptyGroups(_ fs: FakeCgroupFS) throws -> CgroupV2Driver {
            let (driver, slot) = try makeSlot(fs)
            try fs.removeFiles(in: Self.slotPath)
            try slot.destroy()
            try fs.remove("agentgrid/test/cgroup.subtree_control")
            try fs.remove("agentgrid/cgroup.subtree_control")
            return driver
        }

        @Test func removeGroupRemovesEveryLevelUpToTheRoot() throws {
            let fs = try FakeCgroupFS()
            try populate(fs)
            let driver = try destroyedSlotLeavingEmptyGroups(fs)
            try driver.removeGroup()
            #expect(!fs.exists("agentgrid"))
            #expect(fs.exists("cgroup.subtree_control"))
            #expect(FileManager.default.fileExists(atPath: fs.root))
        }

        @Test func removeGroupStopsAtAParentThatStillHasChildren() throws {
            let fs = try FakeCgroupFS()
            try populate(fs)
            let driver = try destroyedSlotLeavingEmptyGroups(fs)
            try FileManager.default.createDirectory(atPath: fs.root + "/agentgrid/other-engine", withIntermediateDirectories: false)
            try driver.removeGroup()
            #expect(!fs.exists("agentgrid/test"))
            #expect(fs.exists("agentgrid/other-engine"))
        }
    }
}

// MARK: - cgroup v1

extension CgroupDriverTests {
    @Suite struct V1Driver {
        static let group = "agentgrid/test"
        /// cpu and cpuacct co-mounted, as on many v1 hosts.
        static let hierarchyNames = ["memory", "pids", "cpu,cpuacct", "freezer"]

        private func mounts(_ fs: FakeCgroupFS) -> [String: String] {
            [
                "memory": fs.root + "/memory", "pids": fs.root + "/pids", "cpu": fs.root + "/cpu,cpuacct",
                "cpuacct": fs.root + "/cpu,cpuacct", "freezer": fs.root + "/freezer",
            ]
        }

        private func path(_ hierarchy: String, _ file: String) -> String {
            "\(hierarchy)/\(Self.group)/slot0/\(file)"
        }

        private func populate(_ fs: FakeCgroupFS, memsw: Bool = true) throws {
            for hierarchy in Self.hierarchyNames { try fs.set(path(hierarchy, "cgroup.procs")) }
            for file in ["memory.limit_in_bytes", "memory.max_usage_in_bytes", "memory.swappiness"] {
                try fs.set(path("memory", file))
            }
            if memsw { try fs.set(path("memory", "memory.memsw.limit_in_bytes")) }
            try fs.set(path("memory", "memory.usage_in_bytes"), "1048576\n")
            try fs.set(path("memory", "memory.oom_control"), "oom_kill_disable 0\nunder_oom 0\noom_kill 2\n")
            try fs.set(path("pids", "pids.max"))
            try fs.set(path("pids", "pids.current"), "0\n")
            try fs.set(path("cpu,cpuacct", "cpu.cfs_quota_us"))
            try fs.set(path("cpu,cpuacct", "cpu.cfs_period_us"))
            try fs.set(path("cpu,cpuacct", "cpuacct.usage"))
            try fs.set(path("freezer", "freezer.state"))
        }

        private func makeSlot(_ fs: FakeCgroupFS) throws -> (CgroupV1Driver, CgroupV1Slot) {
            let driver = try CgroupV1Driver(mounts: mounts(fs), group: Self.group)
            let slot = try #require(try driver.makeSlot(named: "slot0") as? CgroupV1Slot)
            return (driver, slot)
        }

        @Test func requiresEveryController() throws {
            var partial = ["memory": "/m", "pids": "/p", "cpu": "/c", "cpuacct": "/c"]
            let error = #expect(throws: SystemError.self) { try CgroupV1Driver(mounts: partial, group: "g") }
            #expect(error?.path == "freezer")
            #expect(error?.errno == ENOENT)
            partial["freezer"] = "/f"
            let driver = try CgroupV1Driver(mounts: partial, group: "agentgrid/x")
            #expect(driver.version == .v1)
            #expect(driver.hierarchies == ["/m", "/p", "/c", "/f"])  // co-mounted cpu,cpuacct once
            #expect(driver.location == "/m/agentgrid/x, /p/agentgrid/x, /c/agentgrid/x, /c/agentgrid/x, /f/agentgrid/x")
        }

        @Test func makeSlotSetsThePeriodAndSwappiness() throws {
            let fs = try FakeCgroupFS()
            try populate(fs)
            let (_, slot) = try makeSlot(fs)
            #expect(try fs.read(path("cpu,cpuacct", "cpu.cfs_period_us")) == "100000")
            #expect(try fs.read(path("memory", "memory.swappiness")) == "0")
            // One cgroup.procs per distinct hierarchy for the child to join.
            #expect(slot.procsDescriptors.count == 4)
            #expect(Set(slot.procsDescriptors).count == 4)
        }

        @Test func applyWritesTheLimits() throws {
            let fs = try FakeCgroupFS()
            try populate(fs)
            let (_, slot) = try makeSlot(fs)
            try slot.apply(CgroupLimits(memoryBytes: 64 << 20, pids: 32, milliCPUs: 500))
            #expect(try fs.read(path("memory", "memory.limit_in_bytes")) == "67108864")
            #expect(try fs.read(path("memory", "memory.memsw.limit_in_bytes")) == "67108864")
            #expect(try fs.read(path("pids", "pids.max")) == "32")
            #expect(try fs.read(path("cpu,cpuacct", "cpu.cfs_quota_us")) == "50000")
        }

        @Test(arguments: [(Int64(500), "50000"), (1, "1000"), (10, "1000"), (11, "1100"), (2_000, "200000")])
        func cfsQuotaHasAOneMillisecondMinimum(milliCPUs: Int64, expected: String) throws {
            let fs = try FakeCgroupFS()
            try populate(fs)
            let (_, slot) = try makeSlot(fs)
            try slot.apply(CgroupLimits(memoryBytes: 1 << 20, pids: 1, milliCPUs: milliCPUs))
            #expect(try fs.read(path("cpu,cpuacct", "cpu.cfs_quota_us")) == expected)
        }

        /// memsw must stay >= the memory limit at every moment: lowering writes the memory limit
        /// first, raising writes memsw first. The first apply starts from "unlimited", so it lowers.
        @Test func memswIsRaisedFirstAndLoweredLast() throws {
            let fs = try FakeCgroupFS()
            try populate(fs)
            let (_, slot) = try makeSlot(fs)
            let order = try ModificationOrder(watching: fs.root + "/memory/\(Self.group)/slot0")
            let limit = "memory.limit_in_bytes", memsw = "memory.memsw.limit_in_bytes"

            try slot.apply(CgroupLimits(memoryBytes: 64 << 20, pids: 32, milliCPUs: 500))
            #expect(order.names() == [limit, memsw])

            try slot.apply(CgroupLimits(memoryBytes: 128 << 20, pids: 32, milliCPUs: 500))
            #expect(order.names() == [memsw, limit])
            #expect(try fs.read(path("memory", limit)) == "134217728")
            #expect(try fs.read(path("memory", memsw)) == "134217728")

            try fs.set(path("memory", limit))
            try fs.set(path("memory", memsw))
            _ = order.names()
            try slot.apply(CgroupLimits(memoryBytes: 32 << 20, pids: 32, milliCPUs: 500))
            #expect(order.names() == [limit, memsw])
            #expect(try fs.read(path("memory", limit)) == "33554432")
            #expect(try fs.read(path("memory", memsw)) == "33554432")

            // Unchanged memory: neither file is touched.
            try slot.apply(CgroupLimits(memoryBytes: 32 << 20, pids: 8, milliCPUs: 500))
            #expect(order.names() == [])
        }

        @Test func withoutSwapAccountingOnlyTheMemoryLimitIsWritten() throws {
            let fs = try FakeCgroupFS()
            try populate(fs, memsw: false)
            let (_, slot) = try makeSlot(fs)
            #expect(slot.memorySwapLimit == nil)
            try slot.apply(CgroupLimits(memoryBytes: 64 << 20, pids: 32, milliCPUs: 500))
            try slot.apply(CgroupLimits(memoryBytes: 96 << 20, pids: 32, milliCPUs: 500))
            #expect(try fs.read(path("memory", "memory.limit_in_bytes")) == "100663296")
            #expect(!fs.exists(path("memory", "memory.memsw.limit_in_bytes")))
        }

        @Test func applySkipsUnchangedValues() throws {
            let fs = try FakeCgroupFS()
            try populate(fs)
            let (_, slot) = try makeSlot(fs)
            let limits = CgroupLimits(memoryBytes: 64 << 20, pids: 32, milliCPUs: 500)
            try slot.apply(limits)
            let files = [
                path("memory", "memory.limit_in_bytes"), path("memory", "memory.memsw.limit_in_bytes"),
                path("pids", "pids.max"), path("cpu,cpuacct", "cpu.cfs_quota_us"),
            ]
            for file in files { try fs.set(file, sentinel) }
            try slot.apply(limits)
            for file in files { #expect(try fs.read(file) == sentinel, "\(file) rewritten") }
            for file in files { try fs.set(file) }
            try slot.apply(CgroupLimits(memoryBytes: 64 << 20, pids: 32, milliCPUs: 250))
            #expect(try files.map(fs.read) == ["", "", "", "25000"])
        }

        @Test func beginRunResetsCountersAndUsageIsSinceTheBaseline() throws {
            let fs = try FakeCgroupFS()
            try populate(fs)
            let (_, slot) = try makeSlot(fs)
            let baseline = try slot.beginRun()
            #expect(try fs.read(path("memory", "memory.max_usage_in_bytes")) == "0")
            #expect(try fs.read(path("cpu,cpuacct", "cpuacct.usage")) == "0")
            #expect(baseline == CgroupBaseline(cpuNanoseconds: 0, oomKills: 2, memoryBytes: 1_048_576))

            try fs.set(path("memory", "memory.max_usage_in_bytes"), "5242880\n")
            try fs.set(path("cpu,cpuacct", "cpuacct.usage"), "7000000\n")
            try fs.set(path("memory", "memory.oom_control"), "oom_kill_disable 0\nunder_oom 0\noom_kill 3\n")
            #expect(try slot.cpuNanoseconds() == 7_000_000)
            let usage = try slot.usage(since: baseline)
            #expect(usage == CgroupUsage(cpuNanoseconds: 7_000_000, peakMemoryBytes: 4_194_304, oomKills: 1))

            try fs.set(path("memory", "memory.max_usage_in_bytes"), "4096\n")
            #expect(try slot.usage(since: baseline).peakMemoryBytes == 0)
        }

        @Test func processesReadsThePidsHierarchy() throws {
            let fs = try FakeCgroupFS()
            try populate(fs)
            let (_, slot) = try makeSlot(fs)
            try fs.set(path("memory", "cgroup.procs"), "999\n")  // not the list the slot reads
            try fs.set(path("pids", "cgroup.procs"), "41\n42\n")
            try fs.set(path("pids", "pids.current"), "2\n")
            #expect(try slot.processes() == [41, 42])
        }

        @Test func killAllOnAnEmptyCgroupReturnsWithoutFreezing() throws {
            let fs = try FakeCgroupFS()
            try populate(fs)
            let (_, slot) = try makeSlot(fs)
            try slot.killAll()
            #expect(try fs.read(path("freezer", "freezer.state")) == "")
        }

        @Test func destroyRemovesTheSlotInEveryHierarchy() throws {
            let fs = try FakeCgroupFS()
            try populate(fs)
            let (driver, slot) = try makeSlot(fs)
            for hierarchy in Self.hierarchyNames { try fs.removeFiles(in: "\(hierarchy)/\(Self.group)/slot0") }
            try slot.destroy()
            for hierarchy in Self.hierarchyNames {
                #expect(!fs.exists("\(hierarchy)/\(Self.group)/slot0"))
                #expect(fs.exists("\(hierarchy)/\(Self.group)"))
            }
            try FileManager.default.createDirectory(atPath: fs.root + "/pids/agentgrid/other", withIntermediateDirectories: false)
            try driver.removeGroup()
            for hierarchy in Self.hierarchyNames {
                #expect(!fs.exists("\(hierarchy)/\(Self.group)"))
                #expect(fs.exists(hierarchy))
            }
            // The shared parent stays where another engine still has its group.
            #expect(fs.exists("pids/agentgrid/other"))
            #expect(!fs.exists("memory/agentgrid"))
        }
    }
}

// MARK: - real cgroups on this host

private func writePid(_ pid: Int32, to path: String) throws {
    let fd = open(path, O_WRONLY | O_CLOEXEC)
    guard fd >= 0 else { throw SystemError("open", path: path) }
    defer { close(fd) }
    let text = Array("\(pid)\n".utf8)
    guard write(fd, text, text.count) == text.count else { throw SystemError("write", path: path) }
}

private func startSleep() throws -> Process {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/bin/sleep")
    process.arguments = ["30"]
    try process.run()
    return process
}

private func stop(_ process: Process) {
    if process.isRunning { kill(process.processIdentifier, SIGKILL) }
    process.waitUntilExit()
}

private let hostProbe = CgroupProbe.host()
private let realV1Available = geteuid() == 0 && hostProbe.v1Controllers.count == CgroupV1Driver.requiredControllers.count
private let realUnifiedMount: String? = geteuid() == 0 ? hostProbe.unifiedMount : nil

extension CgroupDriverTests {
    @Suite struct RealHierarchy {
        @Test(.enabled(if: realV1Available, "needs root and every v1 controller"))
        func v1SlotLimitsMembershipKillAndRemoval() async throws {
            let mounts = hostProbe.v1Mounts
            let group = "agentgrid/unit-\(getpid())"
            // Marks the group as alive, so an engine starting meanwhile does not sweep it up.
            let alive = try InstanceLock.take("unit-\(getpid())")
            defer { alive.release() }
            let driver = try CgroupV1Driver(mounts: mounts, group: group)
            let slot = try driver.makeSlot(named: "slot0")
            var destroyed = false
            defer {
                if !destroyed { try? slot.destroy() }
                try? driver.removeGroup()
                for hierarchy in driver.hierarchies {  // last resort: never leave cgroups behind
                    rmdir("\(hierarchy)/\(group)/slot0")
                    rmdir("\(hierarchy)/\(group)")
                }
            }
            func file(_ controller: String, _ name: String) -> String { "\(mounts[controller]!)/\(group)/slot0/\(name)" }
            func value(_ controller: String, _ name: String) -> String? {
                readSmallFile(file(controller, name))?.trimmingCharacters(in: .whitespacesAndNewlines)
            }

            try slot.apply(CgroupLimits(memoryBytes: 64 << 20, pids: 32, milliCPUs: 500))
            #expect(value("memory", "memory.limit_in_bytes") == "67108864")
            #expect(value("memory", "memory.swappiness") == "0")
            if access(file("memory", "memory.memsw.limit_in_bytes"), F_OK) == 0 {
                #expect(value("memory", "memory.memsw.limit_in_bytes") == "67108864")
            }
            #expect(value("pids", "pids.max") == "32")
            #expect(value("cpu", "cpu.cfs_quota_us") == "50000")
            #expect(value("cpu", "cpu.cfs_period_us") == "100000")

            // The kernel refuses memory > memsw with EINVAL: raising and lowering both succeed only
            // in the right order.
            try slot.apply(CgroupLimits(memoryBytes: 128 << 20, pids: 16, milliCPUs: 1))
            #expect(value("memory", "memory.limit_in_bytes") == "134217728")
            #expect(value("pids", "pids.max") == "16")
            #expect(value("cpu", "cpu.cfs_quota_us") == "1000")
            try slot.apply(CgroupLimits(memoryBytes: 32 << 20, pids: 16, milliCPUs: 1))
            #expect(value("memory", "memory.limit_in_bytes") == "33554432")
            if access(file("memory", "memory.memsw.limit_in_bytes"), F_OK) == 0 {
                #expect(value("memory", "memory.memsw.limit_in_bytes") == "33554432")
            }

            let sleeper = try startSleep()
            defer { stop(sleeper) }
            let pid = sleeper.processIdentifier
            for controller in CgroupV1Driver.requiredControllers { try writePid(pid, to: file(controller, "cgroup.procs")) }
            #expect(try slot.processes() == [pid])
            let baseline = try slot.beginRun()
            #expect(baseline.cpuNanoseconds == 0)
            let usage = try slot.usage(since: baseline)
            #expect(usage.oomKills == 0)

            // On cgroup v1 the kernel caches a cgroup.procs pid list per open file until 1 s after
            // its last read: a slot that re-read one kept-open descriptor would see the killed
            // sleeper for another second and give up with EBUSY. processes() must open afresh.
            do {
                try await killAllOffPool(slot).get()
            }
            sleeper.waitUntilExit()
            #expect(sleeper.terminationReason == .uncaughtSignal)
            #expect(sleeper.terminationStatus == SIGKILL)
            #expect(value("freezer", "freezer.state") == "THAWED")
            // A fresh descriptor sees the truth.
            #expect(parsePids(readSmallFile(file("pids", "cgroup.procs")) ?? "?") == [])
            // Let the stale list expire so destroy() (which kills first) can finish.
            try await Task.sleep(for: .milliseconds(1_200))
            #expect(try slot.processes() == [])

            // The same cache the other way round: a list read as empty hides a process that joins
            // within the next second, so killAll() would return with it still inside.
            let second = try startSleep()
            defer { stop(second) }
            try writePid(second.processIdentifier, to: file("pids", "cgroup.procs"))
            do {
                let members = try slot.processes()
                #expect(members == [second.processIdentifier])
            }
            stop(second)
            try await Task.sleep(for: .milliseconds(1_200))

            try slot.destroy()
            destroyed = true
            for controller in CgroupV1Driver.requiredControllers {
                #expect(access("\(mounts[controller]!)/\(group)/slot0", F_OK) != 0, "\(controller) slot left behind")
            }
            try driver.removeGroup()
            for controller in CgroupV1Driver.requiredControllers {
                #expect(access("\(mounts[controller]!)/\(group)", F_OK) != 0, "\(controller) group left behind")
            }
        }

        /// The unified hierarchy here has no memory/pids/cpu controllers, so a CgroupV2Slot cannot
        /// be built on it; the parts of v2 teardown the kernel provides without controllers are
        /// exercised directly: the freeze / SIGKILL / thaw loop and cgroup.kill.
        @Test(.enabled(if: realUnifiedMount != nil, "needs root and a cgroup2 mount"))
        func v2FreezeKillLoopAndCgroupKillOnARealHierarchy() throws {
            let directory = "\(realUnifiedMount!)/agentgrid-unit-\(getpid())"
            guard mkdir(directory, 0o755) == 0 || errno == EEXIST else { throw SystemError("mkdir", path: directory) }
            defer { rmdir(directory) }
            let procs = try ControlFile(path: "\(directory)/cgroup.procs", writable: false)
            let freeze = try ControlFile(path: "\(directory)/cgroup.freeze", writable: true)
            let members = { () throws(SystemError) -> [Int32] in parsePids(try procs.read()) }

            let first = try startSleep()
            defer { stop(first) }
            try writePid(first.processIdentifier, to: "\(directory)/cgroup.procs")
            #expect(try members() == [first.processIdentifier])
            try killUntilEmpty(
                list: members,
                freeze: { () throws(SystemError) in try freeze.write("1") },
                thaw: { () throws(SystemError) in try freeze.write("0") })
            #expect(try members() == [])
            first.waitUntilExit()
            #expect(first.terminationReason == .uncaughtSignal)
            #expect(first.terminationStatus == SIGKILL)
            #expect(readSmallFile("\(directory)/cgroup.freeze")?.hasPrefix("0") == true)

            guard access("\(directory)/cgroup.kill", F_OK) == 0 else { return }  // Linux < 5.14
            let second = try startSleep()
            defer { stop(second) }
            try writePid(second.processIdentifier, to: "\(directory)/cgroup.procs")
            #expect(try members() == [second.processIdentifier])
            try ControlFile(path: "\(directory)/cgroup.kill", writable: true, readable: false).write("1")
            second.waitUntilExit()
            #expect(second.terminationReason == .uncaughtSignal)
            #expect(second.terminationStatus == SIGKILL)
            #expect(try members() == [])
        }
    }
}
