import Foundation
import Testing
@testable import Sandbox

/// The repository's `profiles/` directory, found from this file's location.
private let profilesDirectory: String = {
    var url = URL(fileURLWithPath: #filePath)
    for _ in 0..<3 { url.deleteLastPathComponent() }  // ProfileLoaderTests.swift, SandboxTests, Tests
    return url.appendingPathComponent("profiles").path
}()

/// A valid profile whose line numbers the error tests below rely on (see the comments).
private let sample = """
    name: sample
    description: "a test profile"
    limits:
      memory:     { default: 64M, max: 256M }
      pids:       { default: 32, max: 128 }
      cpus:       { default: 0.5, max: 1 }
      cpu_time:   { default: 2s, max: 10s }
      wall_time:  { default: 5s, max: 60s }
      stdout:     { default: 1M, max: 16M }
      stderr:     { default: 256K, max: 4M }
      tmpfs:      { default: 16M, max: 64M }
      open_files: { default: 64, max: 1024 }
      file_size:  { default: 16M, max: 64M }
      stack:      { default: 8M, max: 8M }
    filesystem:
      read_only:
        - /usr
        - /bin
        - { source: /lib64, optional: true }
      tmpfs: [/tmp]
      workdir: /work
      devices: [null, zero]
    environment:
      PATH: /usr/bin:/bin
      HOME: /work
    seccomp:
      default_action: kill
      allow:
        - read
        - write
        - execve
        - exit_group

    """

/// `sample` with its 1-based line `number` replaced by `text`.
private func sample(line number: Int, _ text: String) -> String {
    var lines = sample.components(separatedBy: "\n")
    precondition(number >= 1 && number <= lines.count)
    lines[number - 1] = text
    return lines.joined(separator: "\n")
}

private func parseError(_ yaml: String, path: String = "sample.yaml") -> ProfileError? {
    do {
        _ = try ProfileLoader.parse(yaml: yaml, path: path)
        return nil
    } catch {
        return error
    }
}

/// A fresh directory under /tmp, removed by the caller.
private func temporaryDirectory() throws -> String {
    let path = NSTemporaryDirectory() + "profile-tests-" + UUID().uuidString
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}

private func write(_ text: String, to path: String) throws {
    try text.write(toFile: path, atomically: true, encoding: .utf8)
}

@Suite struct ProfileLoaderTests {
    // MARK: - the shipped profiles

    @Test func defaultProfileLoads() throws {
        let profile = try ProfileLoader.load(path: profilesDirectory + "/default.yaml")
        #expect(profile.name == "default")
        #expect(profile.userNamespace == false)
        #expect(profile.hostname == "sandbox")
        #expect(profile.limits.memoryBytes == Bounded(defaultValue: 64 << 20, ceiling: 256 << 20))
        #expect(profile.limits.pids == Bounded(defaultValue: 32, ceiling: 128))
        #expect(profile.limits.milliCPUs == Bounded(defaultValue: 500, ceiling: 1_000))
        #expect(profile.limits.cpuTimeMs == Bounded(defaultValue: 2_000, ceiling: 10_000))
        #expect(profile.limits.wallTimeMs == Bounded(defaultValue: 5_000, ceiling: 60_000))
        #expect(profile.limits.stdoutBytes == Bounded(defaultValue: 1 << 20, ceiling: 16 << 20))
        #expect(profile.limits.stderrBytes == Bounded(defaultValue: 256 << 10, ceiling: 4 << 20))
        #expect(profile.limits.tmpfsBytes == Bounded(defaultValue: 16 << 20, ceiling: 64 << 20))
        #expect(profile.limits.openFiles == Bounded(defaultValue: 64, ceiling: 1_024))
        #expect(profile.limits.fileSizeBytes == Bounded(defaultValue: 16 << 20, ceiling: 64 << 20))
        #expect(profile.limits.stackBytes == Bounded(defaultValue: 8 << 20, ceiling: 8 << 20))
        #expect(profile.filesystem.readOnly == [
            PathMapping(source: "/usr"), PathMapping(source: "/bin"), PathMapping(source: "/lib"),
            PathMapping(source: "/lib64", optional: true), PathMapping(source: "/sbin", optional: true),
            PathMapping(source: "/etc/alternatives", optional: true),
        ])
        #expect(profile.filesystem.tmpfs == ["/tmp"])
        #expect(profile.filesystem.workdir == "/work")
        #expect(profile.filesystem.devices == ["null", "zero", "random", "urandom"])
        #expect(profile.environment == [
            EnvironmentVariable(name: "PATH", value: "/usr/local/bin:/usr/bin:/bin"),
            EnvironmentVariable(name: "HOME", value: "/work"),
            EnvironmentVariable(name: "LANG", value: "C.UTF-8"),
            EnvironmentVariable(name: "TMPDIR", value: "/tmp"),
        ])
        #expect(profile.seccomp.defaultAction == .errno(1))
        #expect(profile.seccomp.origin == profilesDirectory + "/seccomp/default.json")
        #expect(profile.seccomp.overrides == [SyscallOverride(name: "clone3", action: .errno(38))])
        for name in ["read", "execve", "exit_group", "clone", "fork", "socket", "personality", "futex", "rseq"] {
            #expect(profile.seccomp.allow.contains(name), "\(name) should be allowed")
        }
        #expect(!profile.seccomp.allow.contains("clone3"))
        #expect(profile.seccomp.allow == Array(Set(profile.seccomp.allow)).sorted())
        #expect(Set(profile.seccomp.allow).isDisjoint(with: SeccompPolicy.forbidden))
        #expect(profile.warnings == [])
        #expect(profile.sourcePath == profilesDirectory + "/default.yaml")
    }

    @Test func pythonProfileLoads() throws {
        let profile = try ProfileLoader.load(path: profilesDirectory + "/python.yaml")
        #expect(profile.name == "python")
        #expect(profile.limits.memoryBytes == Bounded(defaultValue: 256 << 20, ceiling: 1 << 30))
        #expect(profile.limits.pids == Bounded(defaultValue: 64, ceiling: 256))
        #expect(profile.limits.milliCPUs == Bounded(defaultValue: 1_000, ceiling: 2_000))
        #expect(profile.limits.cpuTimeMs == Bounded(defaultValue: 10_000, ceiling: 60_000))
        #expect(profile.limits.wallTimeMs == Bounded(defaultValue: 30_000, ceiling: 300_000))
        #expect(profile.limits.openFiles == Bounded(defaultValue: 256, ceiling: 1_024))
        #expect(profile.filesystem.readOnly.contains(PathMapping(source: "/etc/ssl/certs", optional: true)))
        let environment = Dictionary(uniqueKeysWithValues: profile.environment.map { ($0.name, $0.value) })
        #expect(environment["PYTHONDONTWRITEBYTECODE"] == "1")
        #expect(environment["PYTHONNOUSERSITE"] == "1")
        #expect(environment["PYTHONUNBUFFERED"] == "1")
        #expect(environment["PATH"] == "/usr/local/bin:/usr/bin:/bin")
        #expect(profile.seccomp.origin.hasSuffix("profiles/seccomp/default.json"))
        #expect(profile.seccomp.overrides == [SyscallOverride(name: "clone3", action: .errno(38))])
    }

    @Test func strictProfileLoads() throws {
        let profile = try ProfileLoader.load(path: profilesDirectory + "/strict.yaml")
        #expect(profile.name == "strict")
        #expect(profile.userNamespace == true)
        #expect(profile.limits.memoryBytes == Bounded(defaultValue: 32 << 20, ceiling: 64 << 20))
        #expect(profile.limits.milliCPUs == Bounded(defaultValue: 250, ceiling: 500))
        #expect(profile.limits.cpuTimeMs == Bounded(defaultValue: 1_000, ceiling: 5_000))
        #expect(profile.limits.stderrBytes == Bounded(defaultValue: 64 << 10, ceiling: 256 << 10))
        #expect(profile.limits.openFiles == Bounded(defaultValue: 32, ceiling: 64))
        #expect(profile.seccomp.defaultAction == .kill)
        #expect(profile.seccomp.origin == "inline")
        let networking = ["socket", "socketpair", "connect", "bind", "listen", "accept", "accept4", "sendto",
                          "recvfrom", "sendmsg", "recvmsg", "setsockopt", "getsockopt", "shutdown"]
        #expect(Set(profile.seccomp.allow).isDisjoint(with: networking))
        #expect(profile.seccomp.allow.contains("execve"))
        #expect(profile.seccomp.allow.contains("clone"))
        #expect(profile.seccomp.allow.count < 200)
        #expect(profile.seccomp.overrides == [
            SyscallOverride(name: "clone3", action: .errno(38)), SyscallOverride(name: "socket", action: .errno(97)),
        ])
        #expect(profile.filesystem.readOnly.map(\.source) == ["/usr", "/bin", "/lib", "/lib64"])
    }

    @Test func shippedDirectoryLoadsAsASet() throws {
        let profiles = try ProfileLoader.loadDirectory(profilesDirectory)
        #expect(profiles.keys.sorted() == ["default", "python", "strict"])
        #expect(profiles["python"]?.name == "python")
    }

    /// Every name in our OCI file must exist on this architecture: the loader skips unknown
    /// names silently (Docker's files list other arches' calls), so a typo would go unnoticed.
    @Test func shippedSeccompFileNamesAreAllNative() throws {
        let data = try Data(contentsOf: URL(fileURLWithPath: profilesDirectory + "/seccomp/default.json"))
        let json = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let entries = try #require(json["syscalls"] as? [[String: Any]])
        #expect(entries.count == 1)
        let names = try #require(entries.first?["names"] as? [String])
        #expect(names.count > 200)
        #expect(Set(names).count == names.count, "duplicate names")
        for name in names {
            #expect(OCISeccompFile.isNativeSyscall(name), "\(name) is not an x86_64 syscall")
            #expect(!SeccompPolicy.forbidden.contains(name), "\(name) is forbidden")
        }
        let file = try OCISeccompFile.load(path: profilesDirectory + "/seccomp/default.json")
        #expect(file.allow.count == names.count)
        #expect(file.warnings == [])
        #expect(file.defaultAction == .errno(1))
    }

    @Test func sampleIsValid() throws {
        let profile = try ProfileLoader.parse(yaml: sample, path: "sample.yaml")
        #expect(profile.seccomp.allow == ["execve", "exit_group", "read", "write"])
        #expect(profile.seccomp.origin == "inline")
        #expect(profile.filesystem.devices == ["null", "zero"])
        #expect(profile.hostname == "sandbox")
        #expect(profile.description == "a test profile")
    }

    // MARK: - errors, each with its exact line

    @Test func unknownKey() throws {
        let error = try #require(parseError(sample(line: 21, "  workdri: /work")))
        #expect(error.line == 21)
        #expect(error.column == 3)
        #expect(error.field == "filesystem.workdri")
        #expect(error.message.contains("unknown key 'workdri'"))
        #expect(error.description.hasPrefix("sample.yaml:21:3: filesystem.workdri: unknown key"))
    }

    @Test func unknownTopLevelKey() throws {
        let error = try #require(parseError(sample + "networking: true\n"))
        #expect(error.line == 33)
        #expect(error.field == "networking")
    }

    @Test func badSize() throws {
        let error = try #require(parseError(sample(line: 4, "  memory:     { default: 64Q, max: 256M }")))
        #expect(error.line == 4)
        #expect(error.column == 26)
        #expect(error.field == "limits.memory.default")
        #expect(error.message.contains("'64Q'"))
        #expect(error.description == "sample.yaml:4:26: limits.memory.default: '64Q' is not a size like 64M, 512K, 1G or a number of bytes")
    }

    @Test func defaultAboveMax() throws {
        let error = try #require(parseError(sample(line: 5, "  pids:       { default: 200, max: 128 }")))
        #expect(error.line == 5)
        #expect(error.field == "limits.pids.default")
        #expect(error.message.contains("above the max"))
    }

    @Test func durationNeedsUnit() throws {
        let error = try #require(parseError(sample(line: 8, "  wall_time:  { default: 5, max: 60s }")))
        #expect(error.line == 8)
        #expect(error.field == "limits.wall_time.default")
    }

    @Test func tooPreciseCPUs() throws {
        let error = try #require(parseError(sample(line: 6, "  cpus:       { default: 0.0005, max: 1 }")))
        #expect(error.line == 6)
        #expect(error.field == "limits.cpus.default")
    }

    @Test func memoryMinimumAndZero() throws {
        let small = try #require(parseError(sample(line: 4, "  memory:     { default: 1M, max: 256M }")))
        #expect(small.line == 4)
        #expect(small.message.contains("at least 4M"))
        let zero = try #require(parseError(sample(line: 9, "  stdout:     { default: 1M, max: 0 }")))
        #expect(zero.line == 9)
        #expect(zero.field == "limits.stdout.max")
        #expect(zero.message.contains("greater than 0"))
        let files = try #require(parseError(sample(line: 12, "  open_files: { default: 4, max: 1024 }")))
        #expect(files.field == "limits.open_files.default")
        #expect(files.message.contains("at least 8"))
    }

    @Test func relativePath() throws {
        let error = try #require(parseError(sample(line: 18, "    - bin")))
        #expect(error.line == 18)
        #expect(error.field == "filesystem.read_only[1]")
        #expect(error.message.contains("absolute"))
    }

    @Test func dotDotPath() throws {
        let error = try #require(parseError(sample(line: 19, "    - { source: /usr/../etc, optional: true }")))
        #expect(error.line == 19)
        #expect(error.field == "filesystem.read_only[2].source")
        #expect(error.message.contains("'..'"))
    }

    @Test func pathShapes() throws {
        let trailing = try #require(parseError(sample(line: 17, "    - /usr/")))
        #expect(trailing.line == 17)
        #expect(trailing.field == "filesystem.read_only[0]")
        let doubled = try #require(parseError(sample(line: 20, "  tmpfs: [/tmp//x]")))
        #expect(doubled.line == 20)
        #expect(doubled.field == "filesystem.tmpfs[0]")
        let proc = try #require(parseError(sample(line: 19, "    - { source: /opt, destination: /proc/x }")))
        #expect(proc.field == "filesystem.read_only[2].destination")
        #expect(proc.message.contains("/proc"))
        let root = try #require(parseError(sample(line: 21, "  workdir: /")))
        #expect(root.line == 21)
        #expect(root.field == "filesystem.workdir")
        let dev = try #require(parseError(sample(line: 20, "  tmpfs: [/dev/shm]")))
        #expect(dev.field == "filesystem.tmpfs[0]")
        let duplicate = try #require(parseError(sample(line: 20, "  tmpfs: [/usr]")))
        #expect(duplicate.field == "filesystem.tmpfs[0]")
        #expect(duplicate.message.contains("already mounted by filesystem.read_only[0]"))
    }

    @Test func pathMappingWithDestination() throws {
        let profile = try ProfileLoader.parse(
            yaml: sample(line: 19, "    - { source: /opt/agent, destination: /agent }"), path: "sample.yaml")
        #expect(profile.filesystem.readOnly[2] == PathMapping(source: "/opt/agent", destination: "/agent", optional: false))
    }

    @Test func unknownDevice() throws {
        let error = try #require(parseError(sample(line: 22, "  devices: [null, sda]")))
        #expect(error.line == 22)
        #expect(error.field == "filesystem.devices[1]")
    }

    @Test func forbiddenSyscallInAllow() throws {
        let error = try #require(parseError(sample(line: 30, "    - ptrace")))
        #expect(error.line == 30)
        #expect(error.field == "seccomp.allow[1]")
        #expect(error.message.contains("forbidden"))
    }

    @Test func unknownSyscallName() throws {
        let error = try #require(parseError(sample(line: 30, "    - frobnicate")))
        #expect(error.line == 30)
        #expect(error.field == "seccomp.allow[1]")
        #expect(error.message.contains("'frobnicate' is not a syscall"))
    }

    @Test func essentialSyscallsRequired() throws {
        let error = try #require(parseError(sample(line: 31, "    - getpid")))
        #expect(error.line == 26)
        #expect(error.field == "seccomp")
        #expect(error.message.contains("execve"))
        let denied = try #require(parseError(sample + "  deny: [exit_group]\n"))
        #expect(denied.line == 26)
        #expect(denied.message.contains("exit_group"))
    }

    @Test func overrides() throws {
        let yaml = sample + "  overrides:\n    clone3: \"errno ENOSYS\"\n    write: \"errno 13\"\n    getpid: allow\n"
        let policy = try ProfileLoader.parse(yaml: yaml, path: "sample.yaml").seccomp
        #expect(policy.overrides == [
            SyscallOverride(name: "clone3", action: .errno(38)), SyscallOverride(name: "write", action: .errno(13)),
        ])
        #expect(policy.allow == ["execve", "exit_group", "getpid", "read"])

        let forbidden = try #require(parseError(sample + "  overrides:\n    bpf: \"errno EPERM\"\n"))
        #expect(forbidden.line == 34)
        #expect(forbidden.field == "seccomp.overrides.bpf")
        #expect(forbidden.message.contains("forbidden"))

        let badAction = try #require(parseError(sample + "  overrides:\n    clone3: \"errno 0\"\n"))
        #expect(badAction.line == 34)
        #expect(badAction.field == "seccomp.overrides.clone3")
    }

    @Test func badDefaultAction() throws {
        let error = try #require(parseError(sample(line: 27, "  default_action: allow")))
        #expect(error.line == 27)
        #expect(error.field == "seccomp.default_action")
        let missing = try #require(parseError(sample(line: 27, "  # no default action")))
        #expect(missing.line == 26)
        #expect(missing.field == "seccomp.default_action")
    }

    @Test func badEnvironmentName() throws {
        let error = try #require(parseError(sample(line: 25, "  1HOME: /work")))
        #expect(error.line == 25)
        #expect(error.field == "environment.1HOME")
        #expect(error.message.contains("not a valid variable name"))
    }

    @Test func environmentValuesAreText() throws {
        let profile = try ProfileLoader.parse(
            yaml: sample(line: 25, "  DEBUG: 1\n  VERBOSE: true\n  EMPTY:"), path: "sample.yaml")
        #expect(profile.environment.map(\.value) == ["/usr/bin:/bin", "1", "true", ""])
        let nested = try #require(parseError(sample(line: 25, "  HOME: [a]")))
        #expect(nested.line == 25)
        #expect(nested.field == "environment.HOME")
    }

    @Test func missingRequiredKey() throws {
        let error = try #require(parseError(sample(line: 14, "  # no stack")))
        #expect(error.line == 3)
        #expect(error.field == "limits.stack")
        #expect(error.message.contains("missing required key 'stack'"))

        let description = try #require(parseError(sample(line: 2, "# no description")))
        #expect(description.line == 1)
        #expect(description.field == "description")

        let bound = try #require(parseError(sample(line: 7, "  cpu_time:   { default: 2s }")))
        #expect(bound.line == 7)
        #expect(bound.field == "limits.cpu_time.max")
    }

    @Test func yamlSyntaxError() throws {
        let error = try #require(parseError(sample(line: 2, "description: a: b")))
        #expect(error.line == 2)
        #expect(error.field == "")
        #expect(error.message.contains("YAML syntax error"))
        #expect(error.description.hasPrefix("sample.yaml:2:"))

        let duplicate = try #require(parseError(sample(line: 22, "  workdir: /other")))
        #expect(duplicate.message.contains("key 'workdir' appears more than once"))
        #expect(duplicate.line == 21)
    }

    @Test func wrongType() throws {
        let list = try #require(parseError(sample(line: 21, "  workdir: [/work]")))
        #expect(list.line == 21)
        #expect(list.field == "filesystem.workdir")
        #expect(list.message == "expected a string, found a list")

        let notBool = try #require(parseError(sample + "user_namespace: maybe\n"))
        #expect(notBool.line == 33)
        #expect(notBool.field == "user_namespace")
        #expect(notBool.message.contains("expected true or false"))

        let notMapping = try #require(parseError(sample(line: 5, "  pids: 32")))
        #expect(notMapping.line == 5)
        #expect(notMapping.field == "limits.pids")
        #expect(notMapping.message.contains("expected a mapping"))

        let empty = try #require(parseError(sample(line: 21, "  workdir:")))
        #expect(empty.line == 21)
        #expect(empty.message == "expected a string, found nothing")

        let notList = try #require(parseError(sample(line: 20, "  tmpfs: /tmp")))
        #expect(notList.line == 20)
        #expect(notList.message.contains("expected a list"))
    }

    @Test func namesAndHostnames() throws {
        let name = try #require(parseError(sample(line: 1, "name: Sample")))
        #expect(name.line == 1)
        #expect(name.field == "name")
        let hostname = try #require(parseError(sample + "hostname: -bad-\n"))
        #expect(hostname.line == 33)
        #expect(hostname.field == "hostname")
        let profile = try ProfileLoader.parse(yaml: sample + "hostname: box-1\nuser_namespace: true\n", path: "s.yaml")
        #expect(profile.hostname == "box-1")
        #expect(profile.userNamespace)
    }

    @Test func emptyDocument() throws {
        let error = try #require(parseError("# nothing here\n"))
        #expect(error.message.contains("empty"))
        let scalar = try #require(parseError("just text\n"))
        #expect(scalar.line == 1)
        #expect(scalar.message.contains("expected a mapping"))
    }

    // MARK: - directories and names

    @Test func directoryRules() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }

        let empty = try #require(throwsProfileError { _ = try ProfileLoader.loadDirectory(directory) })
        #expect(empty.message.contains("no *.yaml"))

        try write(sample(line: 1, "name: alpha"), to: directory + "/alpha.yaml")
        try write(sample(line: 1, "name: beta"), to: directory + "/beta.yaml")
        try write("not a profile", to: directory + "/notes.txt")
        let profiles = try ProfileLoader.loadDirectory(directory)
        #expect(profiles.keys.sorted() == ["alpha", "beta"])
        #expect(profiles["beta"]?.sourcePath == directory + "/beta.yaml")

        let byName = try ProfileLoader.resolve("alpha", directory: directory)
        #expect(byName.name == "alpha")
        let byPath = try ProfileLoader.resolve(directory + "/beta.yaml", directory: "/nonexistent")
        #expect(byPath.name == "beta")
        let unknown = try #require(throwsProfileError { _ = try ProfileLoader.resolve("gamma", directory: directory) })
        #expect(unknown.message == "no profile named 'gamma' (available: alpha, beta)")

        // One bad file fails the whole set, and a name must match its file.
        try write(sample(line: 1, "name: other"), to: directory + "/gamma.yaml")
        let mismatch = try #require(throwsProfileError { _ = try ProfileLoader.loadDirectory(directory) })
        #expect(mismatch.file == directory + "/gamma.yaml")
        #expect(mismatch.line == 1)
        #expect(mismatch.field == "name")
        #expect(mismatch.message.contains("must match the file name 'gamma.yaml'"))
    }

    @Test func missingFile() throws {
        let error = try #require(throwsProfileError { _ = try ProfileLoader.load(path: "/nonexistent/x.yaml") })
        #expect(error.file == "/nonexistent/x.yaml")
        #expect(error.message.contains("cannot open"))
    }

    // MARK: - OCI seccomp files

    private static let dockerStyle = """
        {
          "defaultAction": "SCMP_ACT_ERRNO",
          "defaultErrnoRet": 1,
          "archMap": [ { "architecture": "SCMP_ARCH_X86_64", "subArchitectures": ["SCMP_ARCH_X86"] } ],
          "syscalls": [
            { "names": ["read", "write", "execve", "exit_group", "io_uring_setup", "not_a_syscall", "chown32"],
              "action": "SCMP_ACT_ALLOW" },
            { "names": ["getpid"], "action": "SCMP_ACT_LOG" },
            { "names": ["mount", "setns"], "action": "SCMP_ACT_ALLOW", "includes": { "caps": ["CAP_SYS_ADMIN"] } },
            { "names": ["cacheflush"], "action": "SCMP_ACT_ALLOW", "includes": { "arches": ["arm64"] } },
            { "names": ["arch_prctl"], "action": "SCMP_ACT_ALLOW", "includes": { "arches": ["amd64", "x32"] } },
            { "names": ["mremap"], "action": "SCMP_ACT_ALLOW", "excludes": { "arches": ["amd64"] } },
            { "names": ["sync"], "action": "SCMP_ACT_ALLOW", "args": [ { "index": 0, "value": 1, "op": "SCMP_CMP_EQ" } ] },
            { "names": ["personality"], "action": "SCMP_ACT_ALLOW", "args": [ { "index": 0, "value": 0, "op": "SCMP_CMP_EQ" } ] },
            { "names": ["clone3"], "action": "SCMP_ACT_ERRNO", "errnoRet": 38, "excludes": { "caps": ["CAP_SYS_ADMIN"] } },
            { "name": "uname", "action": "SCMP_ACT_KILL_PROCESS" },
            { "names": ["futex_waitv"], "action": "SCMP_ACT_ALLOW", "includes": { "minKernel": "5.16" } }
          ]
        }
        """

    @Test func dockerStyleFile() throws {
        let file = try OCISeccompFile.parse(
            json: Self.dockerStyle, path: "docker.json", kernel: .init(major: 6, minor: 1))
        #expect(file.defaultAction == .errno(1))
        #expect(file.allow == ["arch_prctl", "execve", "exit_group", "futex_waitv", "getpid", "personality", "read", "write"])
        #expect(file.overrides == [
            SyscallOverride(name: "clone3", action: .errno(38)), SyscallOverride(name: "uname", action: .kill),
        ])
        #expect(file.warnings.count == 4)
        #expect(file.warnings.contains { $0.contains("syscalls[0]") && $0.contains("io_uring_setup") })
        #expect(file.warnings.contains { $0.contains("syscalls[6]") && $0.contains("sync") && $0.contains("skipped") })
        #expect(file.warnings.contains { $0.contains("syscalls[7]") && $0.contains("guard filter") })
        #expect(file.warnings.contains { $0.contains("capabilities") && $0.contains("CAP_SYS_ADMIN") })

        // An older kernel does not get the calls that need a newer one.
        let old = try OCISeccompFile.parse(json: Self.dockerStyle, path: "docker.json", kernel: .init(major: 5, minor: 10))
        #expect(!old.allow.contains("futex_waitv"))
    }

    @Test func profileUsesOCIFileRelativeToItself() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try FileManager.default.createDirectory(atPath: directory + "/sc", withIntermediateDirectories: true)
        try write(Self.dockerStyle, to: directory + "/sc/docker.json")
        let seccomp = """
            seccomp:
              oci_file: sc/docker.json
              allow: [getppid]
              deny: [write]
              overrides:
                clone3: "errno EPERM"
            """
        let yaml = sample.components(separatedBy: "\n").prefix(25).joined(separator: "\n") + "\n" + seccomp + "\n"
        try write(yaml, to: directory + "/oci.yaml")
        let profile = try ProfileLoader.load(path: directory + "/oci.yaml")
        #expect(profile.seccomp.origin == directory + "/sc/docker.json")
        #expect(profile.seccomp.defaultAction == .errno(1))
        #expect(profile.seccomp.allow.contains("getppid"))
        #expect(profile.seccomp.allow.contains("read"))
        #expect(!profile.seccomp.allow.contains("write"))
        #expect(profile.seccomp.overrides == [
            SyscallOverride(name: "clone3", action: .errno(1)), SyscallOverride(name: "uname", action: .kill),
        ])
        #expect(profile.warnings.count == 4)
    }

    @Test func missingOCIFileIsTheProfilesError() throws {
        let error = try #require(parseError(sample(line: 27, "  oci_file: nowhere/x.json"), path: "/etc/p/sample.yaml"))
        #expect(error.file == "/etc/p/sample.yaml")
        #expect(error.line == 27)
        #expect(error.field == "seccomp.oci_file")
        #expect(error.message.contains("'/etc/p/nowhere/x.json'"))
    }

    /// Generated files are often minified: no spaces after ':' or ','.
    @Test func compactJSON() throws {
        let json = #"{"defaultAction":"SCMP_ACT_KILL","syscalls":[{"names":["read","exit_group"],"action":"SCMP_ACT_ALLOW"},{"names":["write"],"action":"SCMP_ACT_ERRNO","errnoRet":13}]}"#
        let file = try OCISeccompFile.parse(json: json, path: "min.json")
        #expect(file.defaultAction == .kill)
        #expect(file.allow == ["exit_group", "read"])
        #expect(file.overrides == [SyscallOverride(name: "write", action: .errno(13))])
    }

    @Test func malformedOCIFiles() throws {
        func ociError(_ json: String) -> ProfileError? {
            do {
                _ = try OCISeccompFile.parse(json: json, path: "bad.json")
                return nil
            } catch {
                return error
            }
        }
        let action = try #require(ociError("""
            {"defaultAction": "SCMP_ACT_ERRNO",
             "syscalls": [
               {"names": ["read"], "action": "SCMP_ACT_ALLOW"},
               {"names": ["write"], "action": "SCMP_ACT_NOPE"}
             ]}
            """))
        #expect(action.file == "bad.json")
        #expect(action.field == "syscalls[1].action")
        #expect(action.line == 4)

        let names = try #require(ociError(#"{"syscalls": [{"names": "read", "action": "SCMP_ACT_ALLOW"}]}"#))
        #expect(names.field == "syscalls[0].names")
        #expect(names.message.contains("expected a list"))

        let errno = try #require(ociError(#"{"syscalls": [{"names": ["read"], "action": "SCMP_ACT_ERRNO", "errnoRet": "x"}]}"#))
        #expect(errno.field == "syscalls[0].errnoRet")

        let allowAll = try #require(ociError(#"{"defaultAction": "SCMP_ACT_ALLOW"}"#))
        #expect(allowAll.field == "defaultAction")

        let arch = try #require(ociError(#"{"architectures": ["SCMP_ARCH_AARCH64"], "syscalls": []}"#))
        #expect(arch.field == "architectures")

        let syntax = try #require(ociError("{\"syscalls\": [\n{\"names\": [\"read\"]\n"))
        #expect(syntax.line != nil)
        #expect(syntax.message.contains("syntax"))

        let kernel = try #require(ociError(#"{"syscalls": [{"names": ["read"], "action": "SCMP_ACT_ALLOW", "includes": {"minKernel": "new"}}]}"#))
        #expect(kernel.field == "syscalls[0].includes.minKernel")
    }

    @Test func kernelVersions() {
        #expect(OCISeccompFile.KernelVersion("6.18.44-fc-v1045") == .init(major: 6, minor: 18, patch: 44))
        #expect(OCISeccompFile.KernelVersion("4.8") == .init(major: 4, minor: 8))
        #expect(OCISeccompFile.KernelVersion("5") == .init(major: 5, minor: 0))
        #expect(OCISeccompFile.KernelVersion("x") == nil)
        #expect(OCISeccompFile.KernelVersion("4..8") == nil)
        #expect(OCISeccompFile.KernelVersion("4.8")! < .init(major: 4, minor: 10))
        #expect(OCISeccompFile.KernelVersion.running > .init(major: 3, minor: 0))
    }
}

/// The ProfileError `body` throws, or nil when it does not throw.
private func throwsProfileError(_ body: () throws -> Void) -> ProfileError? {
    do {
        try body()
        return nil
    } catch {
        return error as? ProfileError
    }
}
