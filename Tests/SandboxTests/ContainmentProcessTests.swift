import Foundation
import Glibc
import Testing
@testable import Sandbox

/// Identity, privileges, process visibility and the end of a run.
@Suite struct ContainmentProcessTests {
    @Test(arguments: ["default", "strict"])
    func capabilitiesAreEmptyAndNoNewPrivsIsSet(_ profile: String) async throws {
        let result = try await Fixture.run(["/bin/cat", "/proc/self/status"], profile: profile)
        let fields = Dictionary(uniqueKeysWithValues: result.output.split(separator: "\n").compactMap { line -> (String, String)? in
            let parts = line.split(separator: ":", maxSplits: 1)
            return parts.count == 2 ? (String(parts[0]), parts[1].trimmingCharacters(in: .whitespaces)) : nil
        })
        for set in ["CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"] {
            #expect(fields[set] == "0000000000000000", "\(set) = \(fields[set] ?? "missing")")
        }
        #expect(fields["NoNewPrivs"] == "1")
        #expect(fields["Seccomp"] == "2")
        let uids = fields["Uid"]?.split(whereSeparator: \.isWhitespace) ?? []
        #expect(uids.count == 4 && !uids.contains("0"))
    }

    @Test func userNamespaceNeverMapsHostRoot() async throws {
        let result = try await Fixture.run(["/bin/cat", "/proc/self/uid_map", "/proc/self/gid_map"], profile: "strict")
        let maps = result.output.split(separator: "\n").map { $0.split(whereSeparator: \.isWhitespace) }
        #expect(maps.count == 2)
        for map in maps {
            #expect(map.count == 3 && map[0] == "1000" && map[1] != "0" && map[2] == "1")
        }
    }

    @Test func hostProcessesAreInvisible() async throws {
        let result = try await Fixture.run(["/bin/sh", "-c", "ls /proc | grep -E '^[0-9]+$' | sort -n | tr '\\n' ' '"])
        // Only the shell (pid 1) and the pipeline it started exist in the run's pid namespace.
        let pids = result.output.split(separator: " ").compactMap { Int($0) }
        #expect(pids.first == 1)
        #expect(pids == Array(1...pids.count) && pids.count <= 5, "visible pids: \(pids)")
        #expect(hostProcesses(ownedBy: 0).count > 5)  // while the host has plenty
    }

    @Test func killMinusOneCannotReachAProcessOutside() async throws {
        // A victim on the host running under the very uid the sandbox will get.
        let uid: UInt32 = 705_000 + UInt32(getpid() % 1_000)
        let victim = Process()
        victim.executableURL = URL(fileURLWithPath: "/usr/bin/setpriv")
        victim.arguments = ["--reuid=\(uid)", "--regid=\(uid)", "--clear-groups", "/bin/sleep", "30"]
        try victim.run()
        defer { victim.terminate() }
        try await Task.sleep(for: .milliseconds(100))
        let result = try await Fixture.run(
            RunRequest(arguments: ["/bin/sh", "-c", "/probe kill-all; /probe kill \(victim.processIdentifier)"]), asHostID: uid)
        #expect(result.output.contains("kill: refused ESRCH"), "\(result.output)")
        #expect(victim.isRunning)
        #expect(kill(victim.processIdentifier, 0) == 0)
    }

    @Test func doubleForkedDaemonDoesNotSurviveTheRun() async throws {
        let uid: UInt32 = 706_000 + UInt32(getpid() % 1_000)
        let result = try await Fixture.run(RunRequest(arguments: ["/probe", "daemon"]), asHostID: uid)
        #expect(result.output == "daemon started\n")
        #expect(result.outcome == .completed)
        #expect(hostProcesses(ownedBy: uid).isEmpty)
    }

    @Test func processThatIgnoresSigtermIsGoneAfterATimeout() async throws {
        let uid: UInt32 = 707_000 + UInt32(getpid() % 1_000)
        let result = try await Fixture.run(
            RunRequest(arguments: ["/bin/sh", "-c", "trap '' TERM HUP; (trap '' TERM; sleep 100) & sleep 100"],
                       limits: LimitRequest(wallTimeMs: 300)),
            asHostID: uid)
        #expect(result.outcome == .timeout)
        #expect(hostProcesses(ownedBy: uid).isEmpty)
    }

    @Test func forkBombIsHeldByThePidsLimit() async throws {
        let uid: UInt32 = 708_000 + UInt32(getpid() % 1_000)
        let result = try await Fixture.run(
            RunRequest(arguments: ["/probe", "fork-bomb"], limits: LimitRequest(pids: 16, wallTimeMs: 1_000)), asHostID: uid)
        let forked = Int(result.output.split(separator: " ").last?.trimmingCharacters(in: .whitespacesAndNewlines) ?? "") ?? -1
        #expect(forked >= 1 && forked < 16, "forked \(forked)")
        #expect(result.outcome == .timeout)
        #expect(hostProcesses(ownedBy: uid).isEmpty)
    }

    @Test func callerDescriptorsAndEnvironmentDoNotCross() async throws {
        // An inheritable descriptor (no O_CLOEXEC) and a secret in the caller's environment.
        let leaked = open("/etc/hostname", O_RDONLY)
        defer { close(leaked) }
        setenv("AGENTGRID_TEST_SECRET", "hunter2", 1)
        let fds = try await Fixture.run(["/probe", "fds"])
        #expect(fds.output == "fds: 0 1 2\n")
        let environment = try await Fixture.run(["/usr/bin/env"], environment: [EnvironmentVariable(name: "ASKED", value: "yes")])
        #expect(!environment.output.contains("hunter2"))
        let names = Set(environment.output.split(separator: "\n").compactMap { $0.split(separator: "=").first.map(String.init) })
        #expect(names == ["PATH", "HOME", "LANG", "TMPDIR", "ASKED"])
    }

    @Test func hostnameIsPrivateAndCannotBeChanged() async throws {
        let before = currentHostname()
        let result = try await Fixture.run(["/bin/sh", "-c", "hostname; /probe sethostname; hostname"])
        #expect(result.output == "sandbox\nsethostname: refused EPERM\nsandbox\n")
        #expect(currentHostname() == before)
    }

    @Test func noControllingTerminalForTiocsti() async throws {
        let result = try await Fixture.run(["/bin/sh", "-c", "/probe tiocsti; /probe open-tty"])
        #expect(result.output.contains("tiocsti: refused"))
        #expect(result.output.contains("open /dev/tty: refused"))
    }

    @Test func loopbackWorksInsideButReachesNothingOutside() async throws {
        // A listener on the host's loopback, TCP and UDP.
        let tcp = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        let udp = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
        defer { close(tcp); close(udp) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer in
                _ = bind(tcp, pointer, length)
                _ = getsockname(tcp, pointer, &length)
            }
        }
        listen(tcp, 4)
        let port = UInt16(bigEndian: address.sin_port)
        withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { _ = bind(udp, $0, length) }
        }
        let result = try await Fixture.run(["/bin/sh", "-c", "/probe connect tcp \(port); /probe connect udp \(port)"])
        #expect(result.output.contains("tcp: refused"), "\(result.output)")
        #expect(result.output.contains("udp: refused"), "\(result.output)")
        // Nothing arrived on the host side.
        var pending = pollfd(fd: tcp, events: Int16(POLLIN), revents: 0)
        #expect(poll(&pending, 1, 0) == 0)
        var datagram = pollfd(fd: udp, events: Int16(POLLIN), revents: 0)
        #expect(poll(&datagram, 1, 0) == 0)
    }
}

func currentHostname() -> String {
    var buffer = [UInt8](repeating: 0, count: 256)
    buffer.withUnsafeMutableBufferPointer { raw in
        raw.withMemoryRebound(to: CChar.self) { _ = gethostname($0.baseAddress!, 255) }
    }
    return String(decoding: buffer.prefix { $0 != 0 }, as: UTF8.self)
}
