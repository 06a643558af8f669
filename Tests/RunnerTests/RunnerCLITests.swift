import Foundation
import Testing

/// Black-box tests of the `agentgrid-runner` binary: real sandboxes, real exit codes.
@Suite struct RunnerCLITests {
    /// Every key the JSON result record always has (null when not applicable).
    static let recordKeys = [
        "outcome", "exit_code", "signal", "wall_ms", "cpu_ms", "peak_memory_bytes", "stdout_bytes",
        "stderr_bytes", "setup_error",
    ]

    // MARK: - exit status and output

    @Test func passesStdoutAndStderrThrough() async throws {
        let run = try await RunnerProcess.run("exec", ["--", "/bin/sh", "-c", "echo out; echo err >&2"])
        #expect(run.status == 0)
        #expect(!run.signalled)
        #expect(run.stdoutText == "out\n")
        #expect(run.stderrText == "err\n")
    }

    @Test func exitCodeOfTheProgramPassesThrough() async throws {
        let run = try await RunnerProcess.run("exec", ["--json", "--", "/bin/sh", "-c", "exit 3"])
        #expect(run.status == 3)
        let record = try run.record()
        #expect(record["outcome"] as? String == "failed")
        #expect(record["exit_code"] as? Int == 3)
        #expect(record["signal"] is NSNull)
    }

    /// The program is PID 1 of its pid namespace (as in a container without an init): the
    /// kernel drops signals with the default action that init sends itself, so the shell
    /// survives `kill -KILL $$`. Documented in the README's exit-status table.
    @Test func programSignallingItselfAsPID1Survives() async throws {
        let run = try await RunnerProcess.run("exec", ["--json", "--", "/bin/sh", "-c", "kill -KILL $$; echo survived"])
        #expect(run.status == 0)
        #expect(run.stdoutText == "survived\n")
        let record = try run.record()
        #expect(record["signal"] is NSNull)
    }

    /// A signal the kernel forces (a fault) does end PID 1: 128 + SIGSEGV.
    @Test func programKilledBySegfaultExits139() async throws {
        let run = try await RunnerProcess.run(
            "exec", ["--json", "--profile", "python", "--", "python3", "-c", "import ctypes; ctypes.string_at(0)"])
        #expect(run.status == 139)
        let record = try run.record()
        #expect(record["outcome"] as? String == "failed")
        #expect(record["signal"] as? Int == 11)
        #expect(record["exit_code"] is NSNull)
    }

    // MARK: - limits

    @Test func wallTimeoutExits124Quickly() async throws {
        let run = try await RunnerProcess.run("exec", ["--json", "--wall-timeout", "1s", "--", "/bin/sleep", "10"])
        #expect(run.status == 124)
        // Killed at the limit, not after the program's own 10 s (generous for a loaded CI host).
        #expect(run.seconds < 9)
        let record = try run.record()
        #expect(record["outcome"] as? String == "timeout")
        #expect(record["limit_hit"] as? String == "wall")
        #expect((record["wall_us"] as? Int).map { $0 >= 1_000_000 && $0 < 5_000_000 } == true, "\(record)")
        #expect(record["signal"] as? Int == 9)
        let wall = try #require(record["wall_ms"] as? Int)
        #expect(wall >= 1_000 && wall < 5_000)
    }

    @Test func cpuTimeoutExits124WithLimitHitCPU() async throws {
        let run = try await RunnerProcess.run(
            "exec", ["--json", "--timeout", "500ms", "--wall-timeout", "10s", "--", "/bin/sh", "-c", "while :; do :; done"])
        #expect(run.status == 124)
        let record = try run.record()
        #expect(record["outcome"] as? String == "timeout")
        #expect(record["limit_hit"] as? String == "cpu")
        let cpu = try #require(record["cpu_ms"] as? Int)
        #expect(cpu >= 500)
        let limits = try #require(record["limits"] as? [String: Any])
        #expect(limits["cpu_time_ms"] as? Int == 500)
        #expect(limits["wall_time_ms"] as? Int == 10_000)
    }

    /// python.yaml: memory default 256M, max 1G; 32M is within it and below the 64M array.
    @Test func outOfMemoryExits123() async throws {
        let run = try await RunnerProcess.run(
            "exec", ["--json", "--profile", "python", "--memory", "32M", "--", "python3", "-c", "b=bytearray(64*1024*1024)"])
        #expect(run.status == 123)
        let record = try run.record()
        #expect(record["outcome"] as? String == "oom")
        #expect(record["profile"] as? String == "python")
        let limits = try #require(record["limits"] as? [String: Any])
        #expect(limits["memory_bytes"] as? Int == 32 << 20)
        let peak = try #require(record["peak_memory_bytes"] as? Int)
        #expect(peak > 0 && peak <= 32 << 20)
    }

    /// 101 is ptrace on x86_64: a forbidden call, always killed.
    @Test func forbiddenSyscallExits122() async throws {
        let run = try await RunnerProcess.run(
            "exec", ["--json", "--profile", "python", "--",
                     "python3", "-c", "import ctypes; ctypes.CDLL(None).syscall(101,0,0,0,0)"])
        #expect(run.status == 122)
        let record = try run.record()
        #expect(record["outcome"] as? String == "seccomp_violation")
        #expect(record["signal"] as? Int == 31)  // SIGSYS
        // The kernel's audit record can be rate-limited away; when it is there it names ptrace.
        if !(record["seccomp_syscall"] is NSNull) {
            #expect(record["seccomp_syscall"] as? String == "ptrace")
        }
    }

    /// default.yaml: stdout default 1M. Exactly the cap reaches the caller, then the run ends.
    @Test func outputLimitExits121WithExactlyTheCap() async throws {
        let run = try await RunnerProcess.run("exec", ["--json", "--", "/bin/sh", "-c", "yes"])
        #expect(run.status == 121)
        #expect(run.stdout.count == 1_048_576)
        #expect(run.stdout.prefix(4) == Data("y\ny\n".utf8))
        let record = try run.record()
        #expect(record["outcome"] as? String == "output_limit")
        #expect(record["limit_hit"] as? String == "stdout")
        #expect(record["stdout_bytes"] as? Int == 1_048_576)
    }

    // MARK: - the JSON record

    @Test func jsonRecordOnStderrHasEveryKey() async throws {
        let run = try await RunnerProcess.run("exec", ["--json", "--", "/bin/sh", "-c", "printf abc; printf de >&2"])
        #expect(run.status == 0)
        #expect(run.stdoutText == "abc")
        // The program's stderr comes first, then the record as the last line.
        #expect(run.stderrText.hasPrefix("de{"))
        #expect(run.stderrText.hasSuffix("}\n"))
        let record = try RunnerProcess.jsonObject(Data(run.stderr.dropFirst(2)))
        for key in Self.recordKeys {
            #expect(record.keys.contains(key), "record lacks \(key)")
        }
        #expect(record["outcome"] as? String == "completed")
        #expect(record["exit_code"] as? Int == 0)
        #expect(record["signal"] is NSNull)
        #expect(record["setup_error"] is NSNull)
        #expect(record["stdout_bytes"] as? Int == 3)
        #expect(record["stderr_bytes"] as? Int == 2)
        #expect(record["profile"] as? String == "default")
        #expect((record["wall_ms"] as? Int).map { $0 >= 0 } == true)
        #expect((record["cpu_ms"] as? Int).map { $0 >= 0 } == true)
        #expect((record["peak_memory_bytes"] as? Int).map { $0 > 0 } == true)
    }

    @Test(arguments: ["separate", "equals"])
    func jsonRecordGoesToAFile(form: String) async throws {
        let scratch = try TemporaryDirectory(prefix: "runner-json")
        let file = scratch.path + "/record.json"
        let flag = form == "separate" ? ["--json", file] : ["--json=\(file)"]
        let run = try await RunnerProcess.run("exec", flag + ["--", "/bin/sh", "-c", "echo hi; exit 5"])
        #expect(run.status == 5)
        #expect(run.stdoutText == "hi\n")
        #expect(run.stderr.isEmpty, "stderr: \(run.stderrText)")
        let data = try Data(contentsOf: URL(fileURLWithPath: file))
        #expect(data.last == 0x0A)
        let record = try RunnerProcess.jsonObject(data)
        for key in Self.recordKeys {
            #expect(record.keys.contains(key), "record lacks \(key)")
        }
        #expect(record["outcome"] as? String == "failed")
        #expect(record["exit_code"] as? Int == 5)
        #expect(record["stdout_bytes"] as? Int == 3)
    }

    // MARK: - binds, environment, stdin

    @Test func readOnlyBindIsVisibleButNotWritable() async throws {
        let host = try TemporaryDirectory(prefix: "runner-robind")
        try host.write("file.txt", "hello from the host\n")
        let run = try await RunnerProcess.run("exec", [
            "--ro-bind", "\(host.path):/data", "--",
            "/bin/sh", "-c", "cat /data/file.txt; if echo x > /data/new 2>/dev/null; then echo writable; else echo read-only; fi",
        ])
        #expect(run.status == 0)
        #expect(run.stdoutText == "hello from the host\nread-only\n")
        #expect(!FileManager.default.fileExists(atPath: host.path + "/new"))
    }

    @Test func readOnlyBindWithoutDestinationUsesTheSamePath() async throws {
        let host = try TemporaryDirectory(prefix: "runner-robind-same")
        try host.write("file.txt", "same path\n")
        let run = try await RunnerProcess.run("exec", ["--ro-bind", host.path, "--", "/bin/cat", host.path + "/file.txt"])
        #expect(run.status == 0)
        #expect(run.stdoutText == "same path\n")
        #expect(run.stderrText == "")
    }

    @Test func writableBindLandsOnTheHost() async throws {
        let host = try TemporaryDirectory(prefix: "runner-bind", mode: 0o777)
        let run = try await RunnerProcess.run("exec", [
            "--bind", "\(host.path):/out", "--", "/bin/sh", "-c", "echo written > /out/new.txt && cat /out/new.txt",
        ])
        #expect(run.status == 0)
        #expect(run.stdoutText == "written\n")
        let path = host.path + "/new.txt"
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "written\n")
        // Written as the slot's unprivileged host uid (EngineConfiguration.hostIDRange), not root.
        let owner = try FileManager.default.attributesOfItem(atPath: path)[.ownerAccountID] as? NSNumber
        #expect(owner.map { (700_000..<704_096).contains($0.intValue) } == true, "owner \(String(describing: owner))")
    }

    @Test func environmentIsTheProfilesPlusEnvFlags() async throws {
        let run = try await RunnerProcess.run(
            "exec", ["--env", "K=V", "--env", "EMPTY=", "--", "/usr/bin/env"],
            environment: ["AGENTGRID_TEST_SECRET": "hunter2"])
        #expect(run.status == 0)
        #expect(run.stdoutText.split(separator: "\n") == [
            "PATH=/usr/local/bin:/usr/bin:/bin", "HOME=/work", "LANG=C.UTF-8", "TMPDIR=/tmp", "K=V", "EMPTY=",
        ])
        #expect(!run.stdoutText.contains("hunter2"))
        #expect(!run.stdoutText.contains("AGENTGRID_TEST_SECRET"))
    }

    @Test func envFlagOverridesAProfileVariable() async throws {
        let run = try await RunnerProcess.run("exec", ["--env", "HOME=/tmp", "--", "/usr/bin/env"])
        #expect(run.status == 0)
        #expect(run.stdoutText.split(separator: "\n") == [
            "PATH=/usr/local/bin:/usr/bin:/bin", "LANG=C.UTF-8", "TMPDIR=/tmp", "HOME=/tmp",
        ])
    }

    @Test func stdinFileIsFedToTheProgram() async throws {
        let host = try TemporaryDirectory(prefix: "runner-stdin")
        let contents = "line one\nline two\n\u{1}no newline at the end"
        let file = try host.write("input.txt", contents)
        let run = try await RunnerProcess.run("exec", ["--stdin", file, "--", "/bin/cat"])
        #expect(run.status == 0)
        #expect(run.stdout == Data(contents.utf8))
    }

    /// Without --stdin the program reads /dev/null, never the runner's own stdin.
    @Test func stdinIsEmptyByDefault() async throws {
        let run = try await RunnerProcess.run("exec", ["--", "/bin/sh", "-c", "wc -c"])
        #expect(run.status == 0)
        #expect(run.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines) == "0")
    }

    // MARK: - refused requests

    @Test func unreadableStdinFileExits64BeforeAnythingRuns() async throws {
        let run = try await RunnerProcess.run("exec", ["--stdin", "/nonexistent/input", "--", "/bin/cat"])
        #expect(run.status == 64)
        #expect(run.stderrText.contains("--stdin: cannot read /nonexistent/input"))
    }

    @Test func limitAboveTheCeilingExits64NamingTheLimit() async throws {
        let run = try await RunnerProcess.run("exec", ["--memory", "100G", "--", "/bin/true"])
        #expect(run.status == 64)
        #expect(run.stdout.isEmpty)
        // default.yaml: memory max 256M.
        #expect(run.stderrText.contains("memory: 107374182400 exceeds the profile's ceiling of 268435456"), "\(run.stderrText)")
    }

    @Test func zeroLimitExits64() async throws {
        let run = try await RunnerProcess.run("exec", ["--pids", "0", "--", "/bin/true"])
        #expect(run.status == 64)
        #expect(run.stderrText.contains("pids: 0 must be positive"), "\(run.stderrText)")
    }

    /// Uses AGENTGRID_PROFILES instead of --profiles; the message names that directory.
    @Test func unknownProfileExits64ListingTheAvailableOnes() async throws {
        let run = try await RunnerProcess.run(
            "exec", ["--profile", "nope", "--", "/bin/true"],
            environment: ["AGENTGRID_PROFILES": RunnerProcess.profilesDirectory], passProfiles: false)
        #expect(run.status == 64)
        #expect(run.stdout.isEmpty)
        #expect(run.stderrText.contains(
            "\(RunnerProcess.profilesDirectory): no profile named 'nope' (available: default, python, strict)"),
            "\(run.stderrText)")
    }

    @Test(arguments: [
        (["--memory", "12Q"], "--memory: 12Q is not a size like 64M"),
        (["--timeout", "2"], "--timeout: 2 is not a duration like 2s"),
        (["--wall-timeout", "-1s"], "--wall-timeout"),
        (["--cpus", "0.0005"], "--cpus: 0.0005 is not a CPU count like 0.5"),
        (["--pids", "abc"], "'abc' is invalid for '--pids <pids>'"),
        (["--env", "=x"], "--env: =x is not K=V"),
        (["--ro-bind", "relative"], "bind relative: SRC must be an absolute host path"),
        (["--bind", "/tmp:relative"], "bind /tmp:relative: DST must be an absolute path"),
        (["--ro-bind", "/nonexistent-agentgrid-test"], "host path /nonexistent-agentgrid-test does not exist"),
    ])
    func malformedValueExits64(flags: [String], message: String) async throws {
        let run = try await RunnerProcess.run("exec", flags + ["--", "/bin/echo", "ran"])
        #expect(run.status == 64)
        #expect(run.stdout.isEmpty, "the program must not run")
        #expect(run.stderrText.contains(message), "\(run.stderrText)")
    }

    @Test(arguments: ["/nope", "no-such-program-anywhere"])
    func programMissingInsideExits127(program: String) async throws {
        let run = try await RunnerProcess.run("exec", ["--json", "--", program])
        #expect(run.status == 127)
        #expect(run.stderrText.contains("execve (\(program)): ENOENT"), "\(run.stderrText)")
        let record = try run.record()
        #expect(record["outcome"] as? String == "setup_error")
        let setup = try #require(record["setup_error"] as? [String: Any])
        #expect(setup["step"] as? String == "execve")
        #expect(setup["errno"] as? Int == 2)
        #expect(setup["errno_name"] as? String == "ENOENT")
    }

    @Test func programNotExecutableExits126() async throws {
        let run = try await RunnerProcess.run("exec", ["--", "/usr/lib/os-release"])
        #expect(run.status == 126)
        #expect(run.stderrText.contains("execve (/usr/lib/os-release): EACCES"), "\(run.stderrText)")
    }

    @Test func noProgramExits64() async throws {
        let run = try await RunnerProcess.run("exec", [])
        #expect(run.status == 64)
        #expect(run.stderrText.contains("give the program after --"), "\(run.stderrText)")
    }

    // MARK: - check

    @Test func checkSaysTheHostIsSafe() async throws {
        let run = try await RunnerProcess.run("check", [])
        #expect(run.status == 0)
        #expect(run.stdoutText.contains("verdict             this host can run sandboxes safely"), "\(run.stdoutText)")
        #expect(run.stdoutText.contains("trial run           completed under profile default"))
        #expect(!run.stdoutText.contains("NOT SAFE"))
    }

    @Test func checkJSONHasNoBlockers() async throws {
        let run = try await RunnerProcess.run("check", ["--json"])
        #expect(run.status == 0)
        let report = try RunnerProcess.jsonObject(run.stdout)
        let blockers = try #require(report["blockers"] as? [Any])
        #expect(blockers.isEmpty, "blockers: \(blockers)")
        #expect(report["running_as_root"] as? Bool == true)
        #expect(report["seccomp_filters"] as? Bool == true)
        let trial = try #require(report["trial"] as? [String: Any])
        #expect(trial["outcome"] as? String == "completed")
        #expect(trial["profile"] as? String == "default")
    }
}
