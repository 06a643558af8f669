import Testing
@testable import Sandbox

/// Every call a container runtime must block: the probe tries it, and the run must end as a
/// seccomp violation (killed), never with the call having succeeded.
@Suite struct ContainmentSeccompTests {
    static let killedAttacks: [(attack: String, syscall: String)] = [
        ("ptrace", "ptrace"), ("mount", "mount"), ("unshare", "unshare"), ("keyctl", "keyctl"),
        ("bpf", "bpf"), ("perf_event_open", "perf_event_open"), ("userfaultfd", "userfaultfd"),
        ("init_module", "init_module"), ("io_uring_setup", "io_uring_setup"),
        ("open_by_handle_at", "open_by_handle_at"), ("clock_settime", "clock_settime"),
        ("reboot", "reboot"), ("personality", "personality"), ("clone-newuser", "clone"),
        ("vsock", "socket"), ("packet", "socket"), ("raw", "socket"),
    ]

    @Test(arguments: killedAttacks.map(\.attack))
    func dangerousSyscallKillsTheRun(_ attack: String) async throws {
        let result = try await Fixture.run(["/probe", attack])
        #expect(result.outcome == .seccompViolation, "\(attack): \(result.outcome) \(result.output)")
        #expect(result.signal == 31)
        #expect(!result.output.contains("ALLOWED"))
        // The kernel's audit record names the call unless printk rate limiting dropped it.
        let expected = Self.killedAttacks.first { $0.attack == attack }!.syscall
        if let named = result.seccompSyscall { #expect(named == expected) }
    }

    @Test(arguments: ["x32", "int80"])
    func foreignSyscallABIsAreKilled(_ attack: String) async throws {
        let result = try await Fixture.run(["/probe", attack])
        #expect(result.outcome == .seccompViolation, "\(attack): \(result.output)")
    }

    @Test func personalityQueryStillWorks() async throws {
        let result = try await Fixture.run(["/probe", "personality-query"])
        #expect(result.output == "personality-query: ALLOWED 0\n")
    }

    @Test func strictProfileKillsUnlistedSyscalls() async throws {
        // strict has no networking in its allow list; its default action is kill, except socket
        // which it refuses with EAFNOSUPPORT so libc's lookups fail politely.
        let result = try await Fixture.run(["/probe", "connect", "tcp", "9"], profile: "strict")
        #expect(result.outcome == .completed || result.outcome == .seccompViolation)
        #expect(!result.output.contains("ALLOWED"))
    }

    @Test func forbiddenSyscallsStayKilledEvenIfAPolicyAllowsThem() async throws {
        // A policy built in code (the loader would refuse it) that allows ptrace outright.
        var profile = Fixture.profile()
        profile.seccomp.allow.append("ptrace")
        profile.seccomp.overrides.append(SyscallOverride(name: "ptrace", action: .allow))
        let result = try await Fixture.withEngine(slots: 1) { engine in
            try await engine.run(RunRequest(arguments: ["/probe", "ptrace"], readOnlyBinds: [Fixture.probeBind]), profile: profile)
        }
        #expect(result.outcome == .seccompViolation)
        #expect(!result.output.contains("ALLOWED"))
    }
}
