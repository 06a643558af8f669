import Foundation
import Glibc
import Synchronization
import Testing
@testable import Sandbox

/// The engine as a daemon drives it: concurrent, cancellable, and leaving nothing behind.
@Suite struct EngineLifecycleTests {
    @Test func cancellingARunKillsItPromptly() async throws {
        try await Fixture.withEngine(slots: 1) { engine in
            let start = ContinuousClock.now
            let task = Task {
                try await engine.run(RunRequest(arguments: ["/bin/sleep", "30"]), profile: Fixture.profile())
            }
            try await Task.sleep(for: .milliseconds(200))
            task.cancel()
            let result = try await task.value
            #expect(result.outcome == .cancelled)
            // The kill lands right after the cancel: the run's own wall time stays near 200 ms.
            #expect(result.wallMs < 2_000, "\(result)")
            // Short of the program's own 30 s even on a host stalled for seconds (seen in CI: 12 s
            // on a run whose own wall time was still ~200 ms).
            #expect(ContinuousClock.now - start < .seconds(20))
            #expect(result.setupError == nil)
        }
    }

    @Test func cancellingAQueuedRunNeverStartsIt() async throws {
        try await Fixture.withEngine(slots: 1) { engine in
            let busy = Task { try await engine.run(RunRequest(arguments: ["/bin/sleep", "1"]), profile: Fixture.profile()) }
            try await Task.sleep(for: .milliseconds(100))
            let queued = Task { try await engine.run(RunRequest(arguments: ["/bin/true"]), profile: Fixture.profile()) }
            try await Task.sleep(for: .milliseconds(100))
            queued.cancel()
            let result = try await queued.value
            #expect(result.outcome == .cancelled)
            #expect(result.wallMicroseconds == 0)  // it never ran
            #expect(try await busy.value.outcome == .completed)
        }
    }

    @Test func neverMoreRunsAtOnceThanSlots() async throws {
        let uid: UInt32 = 709_000 + UInt32(getpid() % 1_000)
        try await Fixture.withEngine(slots: 2, hostIDs: uid..<(uid + 2)) { engine in
            // A thread of its own, not a task: on a loaded host the cooperative pool may not run a
            // sampling task at all while the runs go, and a sampler that saw nothing proves nothing.
            let peak = Mutex(0)
            let stop = Atomic(false)
            Thread {
                while !stop.load(ordering: .relaxed) {
                    let live = Set(hostProcesses(ownedBy: uid) + hostProcesses(ownedBy: uid + 1)).count
                    peak.withLock { $0 = max($0, live) }
                    usleep(5_000)
                }
            }.start()
            let results = try await withThrowingTaskGroup(of: RunResult.self) { group in
                for _ in 0..<8 {
                    group.addTask {
                        // The profile's ceiling for wall time: what is tested is the cap, and a host
                        // loaded by the parallel suites can make a start-up slow.
                        // 1 s each, so the two slots' runs overlap even when a start-up takes a
                        // good part of a second (a peak of 1 was seen with 0.3 s runs).
                        try await engine.run(RunRequest(arguments: ["/bin/sleep", "1"], limits: LimitRequest(wallTimeMs: 60_000)),
                                             profile: Fixture.profile())
                    }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            stop.store(true, ordering: .relaxed)
            #expect(results.allSatisfy { $0.outcome == .completed },
                    "\(results.map { "\($0.outcome) limit=\($0.limitHit.map { "\($0)" } ?? "-") setup=\($0.setupError.map { "\($0)" } ?? "-")" })")
            #expect(peak.withLock { $0 } == 2)
        }
    }

    @Test func shutdownRemovesTheEnginesCgroups() async throws {
        let instance = "test-shutdown-\(getpid())"
        let engine = try SandboxEngine(configuration: EngineConfiguration(
            slots: 2, instance: instance, stateDirectory: Fixture.stateDirectory))
        _ = try await engine.run(RunRequest(arguments: ["/bin/true"]), profile: Fixture.profile())
        let location = engine.cgroups.location.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        #expect(location.allSatisfy { FileManager.default.fileExists(atPath: $0) })
        await engine.shutdown()
        #expect(location.allSatisfy { !FileManager.default.fileExists(atPath: $0) })
    }
}

/// Process-wide counts (descriptors, mounts, zombies) only mean something when nothing else
/// runs: the test command runs this suite on its own, serialized (`make test`).
@Suite(.serialized) struct EngineLeakTests {
    @Test func setupFailureHalfwayLeavesNothingBehind() async throws {
        _ = try await Fixture.run(["/bin/true"])  // process-wide one-offs (Dispatch's threads) first
        let before = (descriptors: await settledDescriptors(), mounts: mountCount())
        let uid: UInt32 = 710_000 + UInt32(getpid() % 1_000)
        try await Fixture.withEngine(slots: 1, hostIDs: uid..<(uid + 1)) { engine in
            // The destination lies inside the read-only /usr bind: creating its mount point
            // fails in the child after the root, /proc and several binds already exist.
            let result = try await engine.run(
                RunRequest(arguments: ["/bin/true"], readOnlyBinds: [PathMapping(source: "/etc/hostname", destination: "/usr/agentgrid-new")]),
                profile: Fixture.profile())
            #expect(result.outcome == .setupError)
            #expect(result.setupError?.step == "mount")
            #expect(result.setupError?.errnoName == "EROFS")
            #expect(result.setupError?.detail == "/usr/agentgrid-new")
            #expect(hostProcesses(ownedBy: uid).isEmpty)
            // The same slot serves the next run.
            let next = try await engine.run(RunRequest(arguments: ["/bin/true"]), profile: Fixture.profile())
            #expect(next.outcome == .completed)
        }
        #expect(await settledDescriptors() == before.descriptors)
        #expect(mountCount() == before.mounts)
        #expect(zombieChildren() == 0)
    }

    @Test func manyRunsLeakNoDescriptorsMountsOrZombies() async throws {
        try await Fixture.withEngine(slots: 2) { engine in
            // Warm both slots (and the threads that serve them) before counting.
            async let first = engine.run(RunRequest(arguments: ["/bin/sleep", "0.1"]), profile: Fixture.profile())
            async let second = engine.run(RunRequest(arguments: ["/bin/sleep", "0.1"]), profile: Fixture.profile())
            _ = try await (first, second)
            let before = (descriptors: await settledDescriptors(), mounts: mountCount())
            try await withThrowingTaskGroup(of: Void.self) { group in
                for index in 0..<40 {
                    group.addTask {
                        let arguments = index % 4 == 0 ? ["/bin/sh", "-c", "exit 1"] : ["/bin/true"]
                        _ = try await engine.run(RunRequest(arguments: arguments), profile: Fixture.profile())
                    }
                }
                try await group.waitForAll()
            }
            #expect(await settledDescriptors() == before.descriptors)
            #expect(mountCount() == before.mounts)
            #expect(zombieChildren() == 0)
        }
    }

}

/// The descriptor table once it stops changing: a finished run's last references (its
/// cancel eventfd, held by the closures that served it) are released a moment after it
/// returns, and that lag is not a leak.
func settledDescriptors() async -> [String: String] {
    var last = openDescriptors()
    for _ in 0..<40 {
        try? await Task.sleep(for: .milliseconds(25))
        let now = openDescriptors()
        if now == last { return now }
        last = now
    }
    return last
}

/// This process's descriptors and what each refers to, so a leak names itself.
func openDescriptors() -> [String: String] {
    var result: [String: String] = [:]
    for name in (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")) ?? [] {
        result[name] = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/fd/\(name)")) ?? "?"
    }
    return result
}

func mountCount() -> Int {
    ((try? String(contentsOfFile: "/proc/self/mountinfo", encoding: .utf8)) ?? "").split(separator: "\n").count
}

/// Children of this process that exited and were never reaped.
func zombieChildren() -> Int {
    let me = getpid()
    let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
    return entries.compactMap { Int32($0) }.filter { pid in
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return false }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        return fields.count > 2 && fields[0] == "Z" && Int32(fields[1]) == me
    }.count
}
