import AgentBundle
import Foundation
import Glibc
import Synchronization
import Testing

/// `agentgrid-runner serve` end to end: a real daemon, real sandboxes, real sockets.
/// Serialized: each test starts its own daemon and reasons about timing between processes.
@Suite(.serialized) struct RunnerDaemonTests {
    @Test func submitPassesOutputAndExitStatusThrough() async throws {
        let daemon = try await DaemonProcess.start()
        let run = try await daemon.submit(["--json", "--", "/bin/sh", "-c", "echo out; echo err >&2; exit 3"])
        #expect(run.status == 3)
        #expect(run.stdoutText == "out\n")
        #expect(run.stderrText.hasPrefix("err\n"))
        let record = try run.record()
        #expect(record["outcome"] as? String == "failed")
        #expect(record["exit_code"] as? Int == 3)
        #expect(record["signal"] is NSNull)
        await daemon.stop()
    }

    /// The wire record mirrors the engine's by hand; it must keep the same keys and values.
    @Test func submitsRecordHasTheKeysOfExecsRecord() async throws {
        let daemon = try await DaemonProcess.start()
        let submitted = try await daemon.submit(["--json", "--", "/bin/sh", "-c", "echo x; exit 5"]).record()
        let executed = try await RunnerProcess.run("exec", ["--json", "--", "/bin/sh", "-c", "echo x; exit 5"]).record()
        #expect(Set(submitted.keys).isSubset(of: Set(executed.keys)), "\(Set(submitted.keys).subtracting(executed.keys))")
        #expect(Set(submitted.keys) == ["outcome", "exit_code", "signal", "limit_hit", "wall_us", "spawn_us", "cpu_us",
                                         "peak_memory_bytes", "stdout_bytes", "stderr_bytes", "setup_error", "seccomp_syscall", "profile"])
        for key in ["outcome", "exit_code", "stdout_bytes", "stderr_bytes", "profile"] {
            #expect("\(submitted[key] ?? "nil")" == "\(executed[key] ?? "nil")", "\(key)")
        }
        await daemon.stop()
    }

    @Test func theCapHoldsUnderTenfoldOversubscription() async throws {
        let daemon = try await DaemonProcess.start(slots: 2, queue: 40)
        let peak = Mutex(0)
        let sampler = Task {
            while !Task.isCancelled {
                let busy = daemon.busySlotCgroups
                peak.withLock { $0 = max($0, busy) }
                try? await Task.sleep(for: .milliseconds(5))
            }
        }
        let statuses = try await withThrowingTaskGroup(of: Int32.self) { group in
            for _ in 0..<20 {
                group.addTask { try await daemon.submit(["--", "/bin/sleep", "0.2"]).status }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        sampler.cancel()
        #expect(statuses.allSatisfy { $0 == 0 }, "\(statuses)")
        #expect(peak.withLock { $0 } == 2)  // counted from the cgroups, not the runner's own books
        await daemon.stop()
    }

    @Test func aFullQueueAnswersBusyAtOnce() async throws {
        let daemon = try await DaemonProcess.start(slots: 1, queue: 1)
        let statuses = try await withThrowingTaskGroup(of: (Int32, String).self) { group in
            for _ in 0..<4 {
                group.addTask {
                    let run = try await daemon.submit(["--", "/bin/sleep", "0.5"])
                    return (run.status, run.stderrText)
                }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(statuses.filter { $0.0 == 0 }.count == 2)
        let busy = statuses.filter { $0.0 == 75 }
        #expect(busy.count == 2)
        #expect(busy.allSatisfy { $0.1.contains("runner busy") })
        await daemon.stop()
    }

    @Test func cancelEndsARunningAndAQueuedRun() async throws {
        let daemon = try await DaemonProcess.start(slots: 1, queue: 4)
        let socket = daemon.socket
        async let running = daemon.submit(["--run-id", "running-1", "--wall-timeout", "60s", "--", "/bin/sleep", "30"])
        // The submits are separate processes, so when the daemon learns of each run depends on the host's load:
        // the queued run is sent only once the first one holds the slot, and cancelled before the running one.
        #expect(await daemon.waitForStatus(busy: 1))
        async let queued = daemon.submit(["--run-id", "queued-1", "--", "/bin/true"])
        // A cancel for a run the daemon does not know yet is rejected. Each try ends with a probe for a run that
        // never exists; replies come in order, so a try whose first rejection is the probe was accepted.
        let rejections = await onOwnThread { () -> [[String]] in
            guard let connection = try? RawRunnerConnection(socket: socket), connection.hello() != nil else { return [["no connection"]] }
            func cancel(_ runID: String) -> [String] {
                connection.send(json: #"{"type":"cancel","run_id":"\#(runID)"}"#)
                connection.send(json: #"{"type":"cancel","run_id":"no-such-run"}"#)
                var rejected: [String] = []
                while let id = connection.receive(until: "rejected")?["run_id"] as? String {
                    rejected.append(id)
                    if id == "no-such-run" { break }
                }
                return rejected
            }
            var tries: [[String]] = []
            for _ in 0..<100 {
                tries.append(cancel("queued-1"))
                if tries.last == ["no-such-run"] { break }
                usleep(100_000)
            }
            return [tries.last ?? [], cancel("running-1")]
        }
        #expect(rejections == [["no-such-run"], ["no-such-run"]])
        let started = ContinuousClock.now
        let (runningResult, queuedResult) = try await (running, queued)
        #expect(runningResult.status == 130)
        #expect(queuedResult.status == 130)
        #expect(ContinuousClock.now - started < .seconds(5))
        #expect(daemon.liveSandboxProcesses.isEmpty)
        await daemon.stop()
    }

    @Test func malformedFramesCloseThatConnectionOnly() async throws {
        let daemon = try await DaemonProcess.start()
        let socket = daemon.socket
        let answers = await onOwnThread { () -> [String] in
            var seen: [String] = []
            // Random bytes where a frame should be: a huge length prefix.
            if let connection = try? RawRunnerConnection(socket: socket) {
                connection.sendRaw([0xde, 0xad, 0xbe, 0xef, 1, 2, 3])
                seen.append(connection.receive()?["type"] as? String ?? "closed")
                seen.append(connection.receive() == nil ? "closed" : "open")
            }
            // Valid framing, invalid JSON.
            if let connection = try? RawRunnerConnection(socket: socket) {
                connection.send(json: "{not json")
                seen.append(connection.receive()?["message"] as? String ?? "none")
            }
            // A message before hello.
            if let connection = try? RawRunnerConnection(socket: socket) {
                connection.send(json: #"{"type":"status"}"#)
                seen.append(connection.receive()?["message"] as? String ?? "none")
            }
            // No common version.
            if let connection = try? RawRunnerConnection(socket: socket) {
                connection.send(json: #"{"type":"hello","versions":[99],"client":"future"}"#)
                seen.append(connection.receive()?["message"] as? String ?? "none")
            }
            // A truncated frame, then the client hangs up: nothing to answer, the runner must survive.
            if let connection = try? RawRunnerConnection(socket: socket) {
                connection.sendRaw([0, 0, 0, 100, 123, 34])
            }
            // A zero-length frame.
            if let connection = try? RawRunnerConnection(socket: socket) {
                connection.sendRaw([0, 0, 0, 0])
                seen.append(connection.receive()?["type"] as? String ?? "closed")
            }
            return seen
        }
        #expect(answers.count == 6)
        #expect(answers[0] == "error" && answers[1] == "closed")
        #expect(answers[2].hasPrefix("malformed message"))
        #expect(answers[3] == "the first message must be hello")
        #expect(answers[4].hasPrefix("no common protocol version"))
        #expect(answers[5] == "error")
        // And it still serves everyone else.
        let run = try await daemon.submit(["--", "/bin/echo", "still serving"])
        #expect(run.status == 0 && run.stdoutText == "still serving\n")
        let status = await onOwnThread { () -> [String] in
            guard let connection = try? RawRunnerConnection(socket: socket), connection.hello() != nil else { return [] }
            connection.send(json: #"{"type":"status"}"#)
            guard let report = connection.receive() else { return [] }
            return ["\(report["slots"] as? Int ?? -1)"] + (report["profiles"] as? [String] ?? [])
        }
        #expect(status == ["2", "default", "python", "strict"])
        await daemon.stop()
    }

    @Test func requestsTheProfileRefusesAreRejectedWithTheReason() async throws {
        let daemon = try await DaemonProcess.start()
        let unknown = try await daemon.submit(["--profile", "nope", "--", "/bin/true"])
        #expect(unknown.status == 64 && unknown.stderrText.contains("unknown_profile"))
        let tooBig = try await daemon.submit(["--memory", "100G", "--", "/bin/true"])
        #expect(tooBig.status == 64 && tooBig.stderrText.contains("limit_above_ceiling"))
        await daemon.stop()
    }

    @Test func anUnauthorizedPeerIsRefusedAndLogged() async throws {
        let daemon = try await DaemonProcess.start()
        // The socket is owner-only; open it up so only the peer check stands in the way.
        chmod(daemon.directory.path, 0o755)
        chmod(daemon.socket, 0o666)
        let run = try await RunnerProcess.launch(
            ["--reuid=12345", "--regid=12345", "--clear-groups", RunnerProcess.binary, "submit", "--socket", daemon.socket, "--", "/bin/true"],
            executable: "/usr/bin/setpriv")
        #expect(run.status == 69, "\(run.stderrText)")
        try await Task.sleep(for: .milliseconds(200))
        #expect(daemon.log.contains("refused a connection from pid"))
        #expect(daemon.log.contains("uid 12345"))
        await daemon.stop()
    }

    @Test func theSocketIsOwnerOnly() async throws {
        let daemon = try await DaemonProcess.start()
        var info = stat()
        #expect(stat(daemon.socket, &info) == 0)
        #expect(info.st_mode & 0o777 == 0o600)
        await daemon.stop()
    }

    @Test func sighupWithABrokenProfileKeepsTheOldSet() async throws {
        let profiles = try TemporaryDirectory(prefix: "runner-profiles")
        for file in ["default.yaml", "python.yaml", "strict.yaml"] {
            try FileManager.default.copyItem(atPath: RunnerProcess.profilesDirectory + "/" + file, toPath: profiles.path + "/" + file)
        }
        try FileManager.default.copyItem(atPath: RunnerProcess.profilesDirectory + "/seccomp", toPath: profiles.path + "/seccomp")
        let daemon = try await DaemonProcess.start(profiles: profiles.path)
        try "name: broken\nlimits: {}\n".write(toFile: profiles.path + "/broken.yaml", atomically: true, encoding: .utf8)
        daemon.signal(SIGHUP)
        try await Task.sleep(for: .milliseconds(500))
        #expect(daemon.log.contains("SIGHUP: profiles not reloaded"))
        #expect(daemon.log.contains("broken.yaml:1:"))
        let run = try await daemon.submit(["--", "/bin/echo", "old set"])
        #expect(run.status == 0 && run.stdoutText == "old set\n")
        await daemon.stop()
    }

    @Test func sigtermDrainsFinishesRunningWorkCancelsTheQueueAndExitsZero() async throws {
        let daemon = try await DaemonProcess.start(slots: 1, queue: 4, grace: 10)
        async let running = daemon.submit(["--", "/bin/sh", "-c", "sleep 1.5; echo finished"])
        #expect(await daemon.waitForStatus(busy: 1))
        async let queued = daemon.submit(["--wall-timeout", "60s", "--", "/bin/sleep", "30"])
        #expect(await daemon.waitForStatus(busy: 1, queued: 1))
        let term = ContinuousClock.now
        daemon.signal(SIGTERM)
        let (first, second) = try await (running, queued)
        #expect(first.status == 0 && first.stdoutText == "finished\n")
        #expect(second.status == 130)  // still queued when the drain began: cancelled, never run
        #expect(await daemon.waitForExit() == 0)
        // It waited for the running work (~1 s left), not for the grace period.
        #expect(ContinuousClock.now - term < .seconds(5))
        #expect(daemon.log.contains("draining"))
        #expect(!FileManager.default.fileExists(atPath: daemon.socket))
        #expect(!FileManager.default.fileExists(atPath: "/sys/fs/cgroup/pids/agentgrid/\(daemon.name)"))
    }

    @Test func runningWorkPastTheGraceIsCancelled() async throws {
        let daemon = try await DaemonProcess.start(slots: 1, queue: 1, grace: 0.5)
        async let running = daemon.submit(["--wall-timeout", "60s", "--", "/bin/sleep", "30"])
        #expect(await daemon.waitForStatus(busy: 1))
        daemon.signal(SIGTERM)
        #expect(try await running.status == 130)
        #expect(await daemon.waitForExit() == 0)
    }

    @Test func aBundleIsMountedReadOnlyAtAgentAndCachedByHash() async throws {
        let daemon = try await DaemonProcess.start()
        let scratch = try TemporaryDirectory(prefix: "bundle-file")
        let archive = try BundleArchives.make(
            "add_file('src/run.sh', b'pwd; cat data.txt; touch /agent/new 2>/dev/null || echo read-only\\n')\nadd_file('src/data.txt', b'payload\\n')",
            manifest: "entrypoint: [/bin/sh, run.sh]\nworkdir: src\n")
        let path = scratch.path + "/agent.tar.gz"
        try archive.write(to: URL(fileURLWithPath: path))
        let first = try await daemon.submit(["--bundle", path, "--", "/bin/sh", "run.sh"])
        #expect(first.status == 0, "\(first.stderrText)")
        #expect(first.stdoutText == "/agent/src\npayload\nread-only\n")

        // Sent once: a later run names the hash alone.
        let hash = BundleUnpacker.sha256(Array(archive))
        let socket = daemon.socket
        let replies = await onOwnThread { () -> [String] in
            guard let connection = try? RawRunnerConnection(socket: socket), connection.hello() != nil else { return [] }
            var seen: [String] = []
            connection.send(json: #"{"type":"execute","run_id":"cached","profile":"default","argv":["/bin/cat","data.txt"],"bundle":{"sha256":"\#(hash)"}}"#)
            let finished = connection.receive(until: "finished")
            let record = finished?["record"] as? [String: Any]
            seen.append(record?["outcome"] as? String ?? "none")
            seen.append(String(decoding: Data(base64Encoded: finished?["stdout"] as? String ?? "") ?? Data(), as: UTF8.self))
            let unknown = String(repeating: "ab", count: 32)
            connection.send(json: #"{"type":"execute","run_id":"unknown","profile":"default","argv":["/bin/true"],"bundle":{"sha256":"\#(unknown)"}}"#)
            seen.append(connection.receive(until: "rejected")?["detail"] as? String ?? "none")
            connection.send(json: #"{"type":"execute","run_id":"forged","profile":"default","argv":["/bin/true"],"bundle":{"sha256":"\#(unknown)","data":"H4sIAAAAAAAAA+3BAQ0AAADCoPdPbQ43oAAAAAAAAAAAAIA3A5reHScAKAAA"}}"#)
            seen.append(connection.receive(until: "rejected")?["detail"] as? String ?? "none")
            return seen
        }
        #expect(replies.count == 4)
        #expect(replies.first == "completed")
        #expect(replies.dropFirst().first == "payload\n")
        #expect(replies.dropFirst(2).first?.contains("is not cached here; send it inline") == true)
        #expect(replies.dropFirst(3).first?.contains("not the sha256:") == true)
        await daemon.stop()
    }

    @Test func theBundleCacheEvictsTheLeastRecentlyUsedOverItsCap() async throws {
        // 10 KiB of cache; each bundle unpacks to 6 KiB, so only one fits.
        let daemon = try await DaemonProcess.start(extra: ["--bundle-cache", "10K"])
        let scratch = try TemporaryDirectory(prefix: "bundle-lru")
        var hashes: [String] = []
        for name in ["first", "second"] {
            let archive = try BundleArchives.make("add_file('\(name).txt', b'\(name)' * 1000)", manifest: "entrypoint: [/bin/true]\n")
            let path = scratch.path + "/\(name).tar.gz"
            try archive.write(to: URL(fileURLWithPath: path))
            hashes.append(BundleUnpacker.sha256(Array(archive)))
            #expect(try await daemon.submit(["--bundle", path, "--", "/bin/true"]).status == 0)
        }
        let socket = daemon.socket
        let sent = hashes
        let answers = await onOwnThread { () -> [String] in
            guard let connection = try? RawRunnerConnection(socket: socket), connection.hello() != nil else { return [] }
            return sent.enumerated().map { index, hash in
                connection.send(json: #"{"type":"execute","run_id":"lru-\#(index)","profile":"default","argv":["/bin/true"],"bundle":{"sha256":"\#(hash)"}}"#)
                while let message = connection.receive() {
                    let type = message["type"] as? String
                    if type == "rejected" { return "evicted" }
                    if type == "finished" { return "cached" }
                }
                return "closed"
            }
        }
        #expect(answers == ["evicted", "cached"])
        await daemon.stop()
    }

    @Test func hostileBundlesAreRejectedBeforeAnythingRuns() async throws {
        let daemon = try await DaemonProcess.start()
        let scratch = try TemporaryDirectory(prefix: "bundle-file")
        let path = scratch.path + "/evil.tar.gz"
        try BundleArchives.make("add_link('shadow', '../../../../etc/shadow')").write(to: URL(fileURLWithPath: path))
        let run = try await daemon.submit(["--bundle", path, "--", "/bin/cat", "shadow"])
        #expect(run.status == 69)
        #expect(run.stderrText.contains("bad_bundle"))
        #expect(run.stderrText.contains("points outside the bundle"))
        await daemon.stop()
    }

    @Test func aClientThatReconnectsCollectsItsRuns() async throws {
        let daemon = try await DaemonProcess.start(slots: 2, extra: ["--orphan-grace", "3"])
        let socket = daemon.socket
        let outcome = await onOwnThread { () -> [String] in
            var seen: [String] = []
            // Submit two runs, then vanish without waiting for either.
            if let first = try? RawRunnerConnection(socket: socket), first.hello() != nil {
                first.send(json: #"{"type":"execute","run_id":"quick","profile":"default","argv":["/bin/echo","kept"]}"#)
                first.send(json: #"{"type":"execute","run_id":"slow","profile":"default","argv":["/bin/sh","-c","sleep 1; echo adopted"]}"#)
                _ = first.receive(until: "started")
            }
            usleep(300_000)
            guard let second = try? RawRunnerConnection(socket: socket), second.hello() != nil else { return ["no reconnect"] }
            for runID in ["quick", "slow", "never-submitted"] {
                second.send(json: #"{"type":"collect","run_id":"\#(runID)"}"#)
            }
            // Replies come as the runs end: quick's kept result, the rejection, slow's result.
            for _ in 0..<3 {
                guard let message = second.receive() else { break }
                let type = message["type"] as? String ?? "?"
                let stdout = String(decoding: Data(base64Encoded: message["stdout"] as? String ?? "") ?? Data(), as: UTF8.self)
                seen.append("\(type):\(message["run_id"] as? String ?? "?"):\(stdout)")
            }
            return seen.sorted()
        }
        #expect(outcome == ["finished:quick:kept\n", "finished:slow:adopted\n", "rejected:never-submitted:"])
        await daemon.stop()
    }

    /// A result is kept for the grace, then forgotten; an id used again gets its own new result
    /// and its own grace (the first result's expiry does not take the second away).
    @Test func keptResultsExpireAfterTheGraceAndAReusedIDKeepsItsNewResult() async throws {
        let daemon = try await DaemonProcess.start(slots: 2, extra: ["--orphan-grace", "2"])
        let socket = daemon.socket
        func collect(_ runID: String) async -> String {
            await onOwnThread { () -> String in
                guard let connection = try? RawRunnerConnection(socket: socket, receiveTimeoutSeconds: 5), connection.hello() != nil else { return "no connection" }
                connection.send(json: #"{"type":"collect","run_id":"\#(runID)"}"#)
                guard let message = connection.receive() else { return "nothing" }
                let stdout = String(decoding: Data(base64Encoded: message["stdout"] as? String ?? "") ?? Data(), as: UTF8.self)
                return "\(message["type"] as? String ?? "?"):\(stdout)"
            }
        }
        #expect(try await daemon.submit(["--run-id", "reused", "--", "/bin/echo", "first"]).status == 0)
        #expect(await collect("reused") == "finished:first\n")
        try await Task.sleep(for: .milliseconds(1_000))
        #expect(try await daemon.submit(["--run-id", "reused", "--", "/bin/echo", "second"]).status == 0)
        try await Task.sleep(for: .milliseconds(1_300))
        // The first result's grace is over, the second's is not.
        #expect(await collect("reused") == "finished:second\n")
        try await Task.sleep(for: .milliseconds(2_000))
        #expect(await collect("reused") == "rejected:")
        await daemon.stop()
    }

    @Test func aRunCancelledWhileQueuedCanStillBeCollected() async throws {
        let daemon = try await DaemonProcess.start(slots: 1, queue: 4)
        let socket = daemon.socket
        let collected = await onOwnThread { () -> String in
            guard let first = try? RawRunnerConnection(socket: socket), first.hello() != nil else { return "no connection" }
            first.send(json: #"{"type":"execute","run_id":"busy","profile":"default","argv":["/bin/sleep","2"]}"#)
            // In its slot before the next one is staged: a staged run's task can otherwise reach
            // the engine's slot pool first and run before it (seen in CI).
            guard first.receive(until: "started")?["run_id"] as? String == "busy" else { return "busy did not start" }
            first.send(json: #"{"type":"execute","run_id":"staged","profile":"default","argv":["/bin/true"]}"#)
            first.send(json: #"{"type":"execute","run_id":"queued","profile":"default","argv":["/bin/true"]}"#)
            first.send(json: #"{"type":"cancel","run_id":"queued"}"#)
            guard let finished = first.receive(until: "finished") else { return "no finished" }
            guard finished["run_id"] as? String == "queued" else { return "first finished: \(finished)" }
            // Another connection asks for it: the kept "cancelled" result, not a wait forever.
            guard let second = try? RawRunnerConnection(socket: socket, receiveTimeoutSeconds: 2), second.hello() != nil else { return "no reconnect" }
            second.send(json: #"{"type":"collect","run_id":"queued"}"#)
            let record = second.receive(until: "finished")?["record"] as? [String: Any]
            return record?["outcome"] as? String ?? "nothing"
        }
        #expect(collected == "cancelled")
        await daemon.stop()
    }

    /// Runs admitted one after another start in that order: a staged run's task that reaches
    /// the engine before the task of the run admitted just before it must not overtake it (its
    /// place in the slot line is taken at admission, not when its task first runs).
    @Test func runsStartInTheOrderTheyWereAdmitted() async throws {
        let daemon = try await DaemonProcess.start(slots: 1, queue: 8)
        let socket = daemon.socket
        let problems = await onOwnThread { () -> [String] in
            guard let connection = try? RawRunnerConnection(socket: socket), connection.hello() != nil else { return ["no connection"] }
            var problems: [String] = []
            for round in 0..<30 {
                let ids = (0..<4).map { "r\(round)-\($0)" }
                for id in ids { connection.send(json: #"{"type":"execute","run_id":"\#(id)","profile":"default","argv":["/bin/true"]}"#) }
                var started: [String] = [], finished = 0
                while finished < ids.count, let message = connection.receive() {
                    if message["type"] as? String == "started" { started.append(message["run_id"] as? String ?? "?") }
                    if message["type"] as? String == "finished" { finished += 1 }
                }
                if started != ids { problems.append("round \(round) started \(started)") }
            }
            return problems
        }
        #expect(problems.isEmpty, "\(problems)")
        await daemon.stop()
    }

    /// A client that takes stdout from `finished` can have stderr alone streamed: stdout then
    /// crosses the connection once, and stderr's sequence has no gaps.
    @Test func stdoutCanBeLeftOutOfTheLogStream() async throws {
        let daemon = try await DaemonProcess.start()
        let socket = daemon.socket
        let seen = await onOwnThread { () -> (streams: [String], sequences: [Int], stdout: String)? in
            guard let connection = try? RawRunnerConnection(socket: socket), connection.hello() != nil else { return nil }
            connection.send(json: #"{"type":"execute","run_id":"quiet","profile":"default","stream_stdout":false,"argv":["/bin/sh","-c","echo out; echo err >&2; echo out2; echo err2 >&2"]}"#)
            var streams: [String] = [], sequences: [Int] = []
            while let message = connection.receive() {
                if message["type"] as? String == "log" {
                    streams.append(message["stream"] as? String ?? "?")
                    sequences.append(message["sequence"] as? Int ?? -1)
                }
                if message["type"] as? String == "finished" {
                    let stdout = Data(base64Encoded: message["stdout"] as? String ?? "").map { String(decoding: $0, as: UTF8.self) } ?? ""
                    return (streams, sequences, stdout)
                }
            }
            return nil
        }
        let result = try #require(seen)
        #expect(Set(result.streams) == ["stderr"], "\(result.streams)")
        #expect(result.sequences == Array(0..<result.sequences.count))
        #expect(result.stdout == "out\nout2\n")
        await daemon.stop()
    }

    @Test func runsOfAVanishedClientAreCancelledAfterTheGrace() async throws {
        let daemon = try await DaemonProcess.start(slots: 1, extra: ["--orphan-grace", "0.5"])
        let socket = daemon.socket
        await onOwnThread {
            if let connection = try? RawRunnerConnection(socket: socket), connection.hello() != nil {
                connection.send(json: #"{"type":"execute","run_id":"orphan","profile":"default","argv":["/bin/sleep","30"],"limits":{"wall_time_ms":60000}}"#)
                _ = connection.receive(until: "started")
            }
        }
        try await Task.sleep(for: .milliseconds(200))
        #expect(!daemon.liveSandboxProcesses.isEmpty)
        try await Task.sleep(for: .milliseconds(1_500))
        #expect(daemon.liveSandboxProcesses.isEmpty)
        #expect(daemon.log.contains("left 1 run(s); cancelling them after"))
        await daemon.stop()
    }

    @Test func metricsAndStructuredLogsDescribeTheRuns() async throws {
        let port = UInt16(20_000 + getpid() % 20_000)
        let daemon = try await DaemonProcess.start(extra: ["--metrics", "127.0.0.1:\(port)"])
        #expect(try await daemon.submit(["--run-id", "metrics-ok", "--", "/bin/true"]).status == 0)
        #expect(try await daemon.submit(["--run-id", "metrics-fail", "--", "/bin/sh", "-c", "exit 4"]).status == 4)
        let metrics = await onOwnThread { httpGet(port: port, path: "/metrics") } ?? ""
        #expect(metrics.hasPrefix("HTTP/1.1 200"))
        #expect(metrics.contains(#"agentgrid_runs_total{outcome="completed"} 1"#))
        #expect(metrics.contains(#"agentgrid_runs_total{outcome="failed"} 1"#))
        #expect(metrics.contains("agentgrid_run_spawn_seconds_count 2"))
        #expect(metrics.contains("agentgrid_run_queue_wait_seconds_count 2"))
        #expect(metrics.contains("agentgrid_run_duration_seconds_bucket"))
        let missing = await onOwnThread { httpGet(port: port, path: "/nope") } ?? ""
        #expect(missing.hasPrefix("HTTP/1.1 404"))
        let log = daemon.log
        #expect(log.contains("outcome=completed") && log.contains("run_id=metrics-ok"))
        #expect(log.contains("outcome=failed") && log.contains("run_id=metrics-fail"))
        await daemon.stop()
    }

    @Test func killNineThenRestartLeavesNothingBehind() async throws {
        let daemon = try await DaemonProcess.start(slots: 2)
        async let orphan = daemon.submit(["--", "/bin/sh", "-c", "(setsid sleep 100 &); sleep 100"], timeoutSeconds: 10)
        #expect(await daemon.waitForStatus(busy: 1))
        // The shell's own children start a little after the slot is taken.
        for _ in 0..<200 where daemon.liveSandboxProcesses.count < 2 { try await Task.sleep(for: .milliseconds(50)) }
        #expect(!daemon.liveSandboxProcesses.isEmpty)
        daemon.signal(SIGKILL)
        _ = await daemon.waitForExit()
        #expect(try await orphan.status == 69)  // the client lost its runner
        try await daemon.start()
        // The restarted runner adopted its old slot cgroups and emptied them before serving (or
        // an engine that started in between swept them as a dead engine's: nothing is left either way).
        #expect(daemon.liveSandboxProcesses.isEmpty)
        let run = try await daemon.submit(["--", "/bin/echo", "serving again"])
        #expect(run.status == 0 && run.stdoutText == "serving again\n")
        await daemon.stop()
        #expect(!FileManager.default.fileExists(atPath: "/sys/fs/cgroup/pids/agentgrid/\(daemon.name)"))
    }
}
