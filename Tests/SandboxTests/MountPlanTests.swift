import Foundation
import Glibc
import Testing
@testable import Sandbox

/// MountPlan with an injected host lookup: exactly which steps the child will execute.
@Suite struct MountPlanTests {
    static let identity = MountPlan.Identity(uid: 700_000, gid: 700_000)
    static let standardKinds: [String: HostPathKind] = ["/usr": .directory, "/bin": .symlink("usr/bin")]
    static let standardReadOnly = [PathMapping(source: "/usr"), PathMapping(source: "/bin")]
    static let size16M = "size=16777216,nr_inodes=4096"

    private func makePlan(
        readOnly: [PathMapping] = MountPlanTests.standardReadOnly, tmpfs: [String] = ["/tmp"], workdir: String = "/work",
        devices: [String] = ["null"], request: RunRequest = RunRequest(arguments: ["/bin/true"]),
        tmpfsBytes: Int64 = 16 << 20, identity: MountPlan.Identity = MountPlanTests.identity, hostname: String = "sandbox",
        kinds: [String: HostPathKind] = [:]
    ) throws(MountPlanError) -> MountPlan {
        let known = Self.standardKinds.merging(kinds) { $1 }
        return try MountPlan(
            filesystem: FilesystemPolicy(readOnly: readOnly, tmpfs: tmpfs, workdir: workdir, devices: devices),
            request: request, tmpfsBytes: tmpfsBytes, identity: identity, hostname: hostname,
            lookup: { known[$0] ?? .missing })
    }

    /// The fixed tail every plan has after /proc: its 12 masks.
    static let procMasks: [MountStep] = [
        .readOnlySelf("/proc/sys"), .readOnlySelf("/proc/sysrq-trigger"), .readOnlySelf("/proc/irq"),
        .readOnlySelf("/proc/bus"), .readOnlySelf("/proc/fs"),
        .bind(source: "/dev/null", destination: "/proc/kcore", readOnly: true),
        .bind(source: "/dev/null", destination: "/proc/keys", readOnly: true),
        .bind(source: "/dev/null", destination: "/proc/timer_list", readOnly: true),
        .bind(source: "/dev/null", destination: "/proc/sched_debug", readOnly: true),
        .bind(source: "/dev/null", destination: "/proc/latency_stats", readOnly: true),
        .tmpfs("/proc/acpi", options: "size=0,mode=0555", readOnly: true),
        .tmpfs("/proc/scsi", options: "size=0,mode=0555", readOnly: true),
    ]

    static let devSymlinks: [MountStep] = [
        .symlink("/dev/fd", pointingTo: "/proc/self/fd"), .symlink("/dev/stdin", pointingTo: "/proc/self/fd/0"),
        .symlink("/dev/stdout", pointingTo: "/proc/self/fd/1"), .symlink("/dev/stderr", pointingTo: "/proc/self/fd/2"),
    ]

    private func writtenFiles(_ plan: MountPlan) -> [String: String] {
        var files: [String: String] = [:]
        for case .writeFile(let path, let contents, _) in plan.steps { files[path] = contents }
        return files
    }

    private func tmpfsOptions(_ plan: MountPlan, at path: String) -> [String] {
        plan.steps.compactMap { step in
            if case .tmpfs(path, let options, _) = step { return options }
            return nil
        }
    }

    // MARK: - the whole plan

    @Test func typicalProfileGivesExactlyThesesSteps() throws {
        let plan = try makePlan(
            readOnly: Self.standardReadOnly + [PathMapping(source: "/lib64", optional: true)],
            devices: ["null", "urandom"])
        let expected: [MountStep] = [
            .directory("/usr", mode: 0o755),
            .bind(source: "/usr", destination: "/usr", readOnly: true),
            .symlink("/bin", pointingTo: "usr/bin"),
            .directory("/tmp", mode: 0o755),
            .tmpfs("/tmp", options: "\(Self.size16M),mode=1777", readOnly: false),
            .directory("/work", mode: 0o755),
            .tmpfs("/work", options: "\(Self.size16M),mode=0755,uid=700000,gid=700000", readOnly: false),
            .directory("/proc", mode: 0o755),
            .proc("/proc"),
        ] + Self.procMasks + [
            .directory("/dev", mode: 0o755),
            .file("/dev/null"), .bind(source: "/dev/null", destination: "/dev/null", readOnly: false),
            .file("/dev/urandom"), .bind(source: "/dev/urandom", destination: "/dev/urandom", readOnly: false),
        ] + Self.devSymlinks + [
            .directory("/etc", mode: 0o755),
            .writeFile("/etc/passwd", contents: "sandbox:x:700000:700000:sandbox:/work:/bin/sh\n", mode: 0o644),
            .writeFile("/etc/group", contents: "sandbox:x:700000:\n", mode: 0o644),
            .writeFile("/etc/hostname", contents: "sandbox\n", mode: 0o644),
            .writeFile("/etc/hosts", contents: "127.0.0.1\tlocalhost sandbox\n::1\tlocalhost\n", mode: 0o644),
        ]
        #expect(plan.steps == expected)
        #expect(plan.optionalSteps == Set(9...20))
    }

    /// The profile's own /tmp and /work tmpfs steps, which every plan in these tests has.
    static func notProfileTmpfs(_ step: MountStep) -> Bool {
        !["/tmp", "/work"].contains(step.destination)
    }

    @Test func aBindBelowATmpfsIsMountedAfterIt() throws {
        // /work is the workdir tmpfs; a bind inside it must come later or the tmpfs hides it.
        let plan = try makePlan(readOnly: [PathMapping(source: "/srv/data", destination: "/work/data")],
                                kinds: ["/srv/data": .directory])
        let tmpfs = try #require(plan.steps.firstIndex { if case .tmpfs("/work", _, _) = $0 { return true } else { return false } })
        let bind = try #require(plan.steps.firstIndex(of: .bind(source: "/srv/data", destination: "/work/data", readOnly: true)))
        #expect(tmpfs < bind)
    }

    @Test func procMasksAreTheOptionalSteps() throws {
        let plan = try makePlan()
        let optional = plan.optionalSteps.sorted().map { plan.steps[$0] }
        #expect(optional == Self.procMasks)
        // They come straight after the proc mount.
        let procIndex = try #require(plan.steps.firstIndex(of: .proc("/proc")))
        #expect(plan.optionalSteps.sorted() == Array((procIndex + 1)...(procIndex + 12)))
    }

    // MARK: - host path kinds

    @Test func symlinkSourceIsRecreatedAsTheSameSymlink() throws {
        let plan = try makePlan(
            readOnly: [PathMapping(source: "/opt/tools/bin")], kinds: ["/opt/tools/bin": .symlink("../lib/bin")])
        #expect(Array(plan.steps.filter(Self.notProfileTmpfs).prefix(3)) == [
            .directory("/opt", mode: 0o755), .directory("/opt/tools", mode: 0o755),
            .symlink("/opt/tools/bin", pointingTo: "../lib/bin"),
        ])
        #expect(!plan.steps.contains { if case .bind(_, "/opt/tools/bin", _) = $0 { return true } else { return false } })
    }

    @Test func directorySourceBecomesADirectoryAndABind() throws {
        let plan = try makePlan(readOnly: [PathMapping(source: "/srv/data", destination: "/data/in")],
                                kinds: ["/srv/data": .directory])
        #expect(Array(plan.steps.filter(Self.notProfileTmpfs).prefix(3)) == [
            .directory("/data", mode: 0o755), .directory("/data/in", mode: 0o755),
            .bind(source: "/srv/data", destination: "/data/in", readOnly: true),
        ])
    }

    @Test func fileSourceBecomesAnEmptyFileAndABind() throws {
        let plan = try makePlan(readOnly: [PathMapping(source: "/srv/app.json", destination: "/config/app.json")],
                                kinds: ["/srv/app.json": .file])
        #expect(Array(plan.steps.filter(Self.notProfileTmpfs).prefix(3)) == [
            .directory("/config", mode: 0o755), .file("/config/app.json"),
            .bind(source: "/srv/app.json", destination: "/config/app.json", readOnly: true),
        ])
    }

    @Test func missingOptionalSourceIsSkipped() throws {
        let with = try makePlan(readOnly: Self.standardReadOnly + [PathMapping(source: "/lib64", optional: true)])
        let without = try makePlan()
        #expect(with == without)
        #expect(!with.steps.contains { $0.destination.hasPrefix("/lib64") })
    }

    @Test func missingRequiredSourceThrows() {
        #expect(throws: MountPlanError.missingSource("/lib64")) {
            try makePlan(readOnly: Self.standardReadOnly + [PathMapping(source: "/lib64")])
        }
        #expect(throws: MountPlanError.missingSource("/srv/gone")) {
            try makePlan(request: RunRequest(arguments: ["x"], readOnlyBinds: [PathMapping(source: "/srv/gone")]))
        }
    }

    @Test func socketsAndDevicesAreNotBindable() {
        #expect(throws: MountPlanError.unsupportedSource("/run/docker.sock")) {
            try makePlan(readOnly: [PathMapping(source: "/run/docker.sock")], kinds: ["/run/docker.sock": .other])
        }
    }

    // MARK: - destinations

    @Test(arguments: ["relative", "", "/", "/a/../b", "/a/./b", "/a//b", "/a/", "/..", "/a/.."])
    func unnormalisedDestinationThrows(destination: String) {
        #expect(throws: MountPlanError.badDestination(destination, "must be an absolute, normalised path other than /")) {
            try makePlan(request: RunRequest(
                arguments: ["x"], readOnlyBinds: [PathMapping(source: "/srv", destination: destination)]))
        }
    }

    @Test(arguments: ["/proc", "/proc/sys", "/proc/1/root", "/dev", "/dev/sda", "/dev/shm"])
    func destinationUnderProcOrDevThrows(destination: String) {
        #expect(throws: MountPlanError.badDestination(destination, "/proc and /dev are built by the sandbox")) {
            try makePlan(request: RunRequest(
                arguments: ["x"], writableBinds: [PathMapping(source: "/srv", destination: destination)]))
        }
    }

    @Test func namesThatOnlyStartLikeProcOrDevAreFine() throws {
        let plan = try makePlan(
            readOnly: [PathMapping(source: "/srv", destination: "/procfs"), PathMapping(source: "/srv", destination: "/device")],
            kinds: ["/srv": .directory])
        #expect(plan.steps.contains(.bind(source: "/srv", destination: "/procfs", readOnly: true)))
        #expect(plan.steps.contains(.bind(source: "/srv", destination: "/device", readOnly: true)))
    }

    /// The destination is checked before the host is asked about the source.
    @Test func destinationIsCheckedBeforeTheSource() {
        #expect(throws: MountPlanError.badDestination("/dev/x", "/proc and /dev are built by the sandbox")) {
            try makePlan(readOnly: [PathMapping(source: "/does/not/exist", destination: "/dev/x")])
        }
    }

    @Test(arguments: ["/", "/dev/shm", "work", "/work/"])
    func badWorkdirThrows(workdir: String) {
        let error = #expect(throws: MountPlanError.self) { try makePlan(workdir: workdir) }
        guard case .badDestination(let path, _)? = error else {
            Issue.record("expected badDestination, got \(String(describing: error))")
            return
        }
        #expect(path == workdir)
    }

    // MARK: - tmpfs and the working directory

    @Test func workdirIsATmpfsOwnedByTheIdentity() throws {
        let plan = try makePlan(identity: MountPlan.Identity(uid: 1000, gid: 2000))
        #expect(tmpfsOptions(plan, at: "/work") == ["\(Self.size16M),mode=0755,uid=1000,gid=2000"])
        #expect(tmpfsOptions(plan, at: "/tmp") == ["\(Self.size16M),mode=1777"])
    }

    @Test(arguments: [
        (Int64(1 << 20), "size=1048576,nr_inodes=1024"),   // 256 inodes would be too few: at least 1024
        (Int64(4 << 20), "size=4194304,nr_inodes=1024"),
        (Int64(16 << 20), "size=16777216,nr_inodes=4096"),
        (Int64(64 << 20), "size=67108864,nr_inodes=16384"),
    ])
    func tmpfsSizeOptionsFollowTmpfsBytes(bytes: Int64, size: String) throws {
        let plan = try makePlan(tmpfs: ["/tmp", "/var/tmp"], tmpfsBytes: bytes)
        #expect(tmpfsOptions(plan, at: "/tmp") == ["\(size),mode=1777"])
        #expect(tmpfsOptions(plan, at: "/var/tmp") == ["\(size),mode=1777"])
        #expect(tmpfsOptions(plan, at: "/work") == ["\(size),mode=0755,uid=700000,gid=700000"])
    }

    @Test func workdirThatIsATmpfsGetsNoSecondMount() throws {
        let plan = try makePlan(workdir: "/tmp")
        #expect(tmpfsOptions(plan, at: "/tmp") == ["\(Self.size16M),mode=1777"])
        #expect(plan.steps.filter { if case .tmpfs = $0 { return true } else { return false } }.count == 1 + 2)  // + /proc/acpi, /proc/scsi
        #expect(writtenFiles(plan)["/etc/passwd"] == "sandbox:x:700000:700000:sandbox:/tmp:/bin/sh\n")
    }

    @Test func workdirProvidedByABindGetsNoTmpfs() throws {
        let request = RunRequest(arguments: ["x"], writableBinds: [PathMapping(source: "/srv/job", destination: "/work")])
        let plan = try makePlan(request: request, kinds: ["/srv/job": .directory])
        #expect(tmpfsOptions(plan, at: "/work") == [])
        #expect(plan.steps.contains(.bind(source: "/srv/job", destination: "/work", readOnly: false)))
    }

    @Test func bundleIsMountedReadOnlyAtAgentAndCoversAWorkdirInsideIt() throws {
        let request = RunRequest(arguments: ["x"], bundleDirectory: "/var/lib/bundles/b1", workingDirectory: "/agent/src")
        let plan = try makePlan(request: request, kinds: ["/var/lib/bundles/b1": .directory])
        #expect(plan.steps.contains(.bind(source: "/var/lib/bundles/b1", destination: "/agent", readOnly: true)))
        #expect(tmpfsOptions(plan, at: "/agent/src") == [])
        #expect(tmpfsOptions(plan, at: "/work") == [])
        #expect(!plan.steps.contains(.directory("/agent/src", mode: 0o755)))
        #expect(writtenFiles(plan)["/etc/passwd"] == "sandbox:x:700000:700000:sandbox:/agent/src:/bin/sh\n")
    }

    @Test func requestWorkdirOverridesTheProfiles() throws {
        let plan = try makePlan(request: RunRequest(arguments: ["x"], workingDirectory: "/home/agent"))
        #expect(tmpfsOptions(plan, at: "/work") == [])
        #expect(tmpfsOptions(plan, at: "/home/agent") == ["\(Self.size16M),mode=0755,uid=700000,gid=700000"])
        #expect(plan.steps.contains(.directory("/home", mode: 0o755)))
    }

    // MARK: - binds

    @Test func bindsComeInOrderProfileThenReadOnlyThenWritableThenBundle() throws {
        let request = RunRequest(
            arguments: ["x"], readOnlyBinds: [PathMapping(source: "/srv/ro", destination: "/ro")],
            writableBinds: [PathMapping(source: "/srv/rw", destination: "/rw")], bundleDirectory: "/srv/bundle")
        let plan = try makePlan(request: request, kinds: ["/srv/ro": .directory, "/srv/rw": .directory, "/srv/bundle": .directory])
        let binds = plan.steps.compactMap { step -> String? in
            guard case .bind(let source, let destination, let readOnly) = step, !source.hasPrefix("/dev/") else { return nil }
            return "\(source)->\(destination):\(readOnly ? "ro" : "rw")"
        }
        #expect(binds == ["/usr->/usr:ro", "/srv/ro->/ro:ro", "/srv/rw->/rw:rw", "/srv/bundle->/agent:ro"])
    }

    @Test func parentsAreCreatedOnceAndInOrder() throws {
        let plan = try makePlan(
            readOnly: [PathMapping(source: "/opt/a/b"), PathMapping(source: "/opt/a/c"), PathMapping(source: "/opt/d")],
            tmpfs: ["/opt/a/tmp"], kinds: ["/opt/a/b": .directory, "/opt/a/c": .file, "/opt/d": .symlink("a")])
        // Shallowest destinations first, in listed order within a depth.
        #expect(Array(plan.steps.filter(Self.notProfileTmpfs).prefix(9)) == [
            .directory("/opt", mode: 0o755), .symlink("/opt/d", pointingTo: "a"),
            .directory("/opt/a", mode: 0o755), .directory("/opt/a/b", mode: 0o755),
            .bind(source: "/opt/a/b", destination: "/opt/a/b", readOnly: true),
            .file("/opt/a/c"), .bind(source: "/opt/a/c", destination: "/opt/a/c", readOnly: true),
            .directory("/opt/a/tmp", mode: 0o755),
            .tmpfs("/opt/a/tmp", options: "\(Self.size16M),mode=1777", readOnly: false),
        ])
        let directories = plan.steps.compactMap { step -> String? in
            if case .directory(let path, _) = step { return path } else { return nil }
        }
        #expect(directories.count == Set(directories).count, "a directory is created twice: \(directories)")
        // Every step's parent exists before it.
        var existing: Set<String> = ["/"]
        for step in plan.steps {
            let parent = URL(fileURLWithPath: step.destination).deletingLastPathComponent().path
            #expect(existing.contains(parent), "\(step) before its parent \(parent)")
            existing.insert(step.destination)
        }
    }

    // MARK: - devices

    @Test func everyAllowedDeviceIsBoundFromTheHost() throws {
        let names = ["null", "zero", "full", "random", "urandom", "tty"]
        let plan = try makePlan(devices: names)
        let bound = plan.steps.compactMap { step -> String? in
            if case .bind(let source, let destination, false) = step, source == destination { return destination }
            return nil
        }
        #expect(bound == names.map { "/dev/\($0)" })
        for name in names { #expect(plan.steps.contains(.file("/dev/\(name)"))) }
    }

    @Test(arguments: ["sda", "mem", "kmsg", "../null", "null/x", ""])
    func otherDevicesThrow(name: String) {
        #expect(throws: MountPlanError.unknownDevice(name)) { try makePlan(devices: ["null", name]) }
    }

    @Test func noDevicesStillGivesTheFdSymlinks() throws {
        let plan = try makePlan(devices: [])
        let devIndex = try #require(plan.steps.firstIndex(of: .directory("/dev", mode: 0o755)))
        #expect(Array(plan.steps[(devIndex + 1)..<(devIndex + 5)]) == Self.devSymlinks)
    }

    // MARK: - /etc

    @Test func etcFilesNameTheIdentityHomeAndHostname() throws {
        let plan = try makePlan(
            workdir: "/home/sbx", identity: MountPlan.Identity(uid: 1000, gid: 1001), hostname: "agent-7")
        #expect(writtenFiles(plan) == [
            "/etc/passwd": "sandbox:x:1000:1001:sandbox:/home/sbx:/bin/sh\n",
            "/etc/group": "sandbox:x:1001:\n",
            "/etc/hostname": "agent-7\n",
            "/etc/hosts": "127.0.0.1\tlocalhost agent-7\n::1\tlocalhost\n",
        ])
        for case .writeFile(_, _, let mode) in plan.steps { #expect(mode == 0o644) }
    }

    @Test func boundEtcGetsNoGeneratedFiles() throws {
        let plan = try makePlan(readOnly: Self.standardReadOnly + [PathMapping(source: "/etc")], kinds: ["/etc": .directory])
        #expect(writtenFiles(plan).isEmpty)
        #expect(plan.steps.contains(.bind(source: "/etc", destination: "/etc", readOnly: true)))
        #expect(plan.steps.filter { $0 == .directory("/etc", mode: 0o755) }.count == 1)
    }

    /// default.yaml and python.yaml list `/etc/alternatives` (optional; present on Debian).
    /// Only that subdirectory is bound, so /etc itself is still the sandbox's to fill.
    @Test func etcSubdirectoryBindStillGetsAGeneratedPasswd() throws {
        let plan = try makePlan(
            readOnly: Self.standardReadOnly + [PathMapping(source: "/etc/alternatives", optional: true)],
            kinds: ["/etc/alternatives": .directory])
        #expect(plan.steps.contains(.bind(source: "/etc/alternatives", destination: "/etc/alternatives", readOnly: true)))
        do {
            #expect(writtenFiles(plan)["/etc/passwd"] == "sandbox:x:700000:700000:sandbox:/work:/bin/sh\n")
            #expect(writtenFiles(plan)["/etc/hostname"] == "sandbox\n")
        }
    }

    @Test func boundEtcFileIsNotOverwrittenButTheOthersAreGenerated() throws {
        let plan = try makePlan(
            readOnly: Self.standardReadOnly + [PathMapping(source: "/srv/passwd", destination: "/etc/passwd")],
            kinds: ["/srv/passwd": .file])
        #expect(writtenFiles(plan)["/etc/passwd"] == nil)
        do {
            #expect(writtenFiles(plan)["/etc/group"] == "sandbox:x:700000:\n")
            #expect(writtenFiles(plan)["/etc/hosts"] == "127.0.0.1\tlocalhost sandbox\n::1\tlocalhost\n")
        }
    }

    /// `--ro-bind /tmp/x` must not cost the program its writable /tmp: the tmpfs has to be
    /// mounted, and before the bind inside it (a later tmpfs would hide the bind).
    @Test func bindBelowATmpfsKeepsTheTmpfs() throws {
        let request = RunRequest(arguments: ["x"], readOnlyBinds: [PathMapping(source: "/tmp/input")])
        let plan = try makePlan(request: request, kinds: ["/tmp/input": .directory])
        let bind = try #require(plan.steps.firstIndex(of: .bind(source: "/tmp/input", destination: "/tmp/input", readOnly: true)))
        do {
            let tmpfs = try #require(plan.steps.firstIndex { if case .tmpfs("/tmp", _, _) = $0 { return true } else { return false } })
            #expect(tmpfs < bind)
        }
    }

    @Test func bindBelowTheWorkdirKeepsTheWorkdirTmpfs() throws {
        let request = RunRequest(arguments: ["x"], readOnlyBinds: [PathMapping(source: "/srv/in", destination: "/work/in")])
        let plan = try makePlan(request: request, kinds: ["/srv/in": .directory])
        let bind = try #require(plan.steps.firstIndex(of: .bind(source: "/srv/in", destination: "/work/in", readOnly: true)))
        do {
            let tmpfs = try #require(plan.steps.firstIndex { if case .tmpfs("/work", _, _) = $0 { return true } else { return false } })
            #expect(tmpfs < bind)
        }
    }

    // MARK: - MountStep and HostPathKind

    @Test func stepDestinations() {
        #expect(MountStep.bind(source: "/a", destination: "/b", readOnly: true).destination == "/b")
        #expect(MountStep.symlink("/bin", pointingTo: "usr/bin").destination == "/bin")
        #expect(MountStep.writeFile("/etc/hosts", contents: "", mode: 0o644).destination == "/etc/hosts")
        #expect(MountStep.tmpfs("/tmp", options: "", readOnly: false).destination == "/tmp")
    }

    @Test func hostPathKindOfRealPaths() throws {
        let directory = NSTemporaryDirectory() + "mountplan-kinds-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try Data("x".utf8).write(to: URL(fileURLWithPath: directory + "/file"))
        try FileManager.default.createSymbolicLink(atPath: directory + "/link", withDestinationPath: "file")
        try FileManager.default.createSymbolicLink(atPath: directory + "/dangling", withDestinationPath: "../nowhere")
        #expect(mkfifo(directory + "/fifo", 0o600) == 0)

        #expect(HostPathKind.of(directory) == .directory)
        #expect(HostPathKind.of(directory + "/file") == .file)
        #expect(HostPathKind.of(directory + "/link") == .symlink("file"))
        #expect(HostPathKind.of(directory + "/dangling") == .symlink("../nowhere"))
        #expect(HostPathKind.of(directory + "/fifo") == .other)
        #expect(HostPathKind.of(directory + "/missing") == .missing)
        #expect(HostPathKind.of("/dev/null") == .other)
    }

    @Test func errorDescriptions() {
        #expect(MountPlanError.missingSource("/x").description == "host path /x does not exist")
        #expect(MountPlanError.unknownDevice("sda").description == "unknown device /dev/sda")
        #expect(MountPlanError.badDestination("/dev", "why").description == "sandbox path /dev: why")
    }
}
