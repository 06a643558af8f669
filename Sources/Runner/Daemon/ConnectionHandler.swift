import AgentBundle
import Logging
import NIOCore
import RunnerProtocol
import Sandbox
import Synchronization

/// One client connection: the hello, then requests in, and an outbox of replies, run
/// progress and results out. Runs outlive the connection only for the orphan grace period.
final class ConnectionHandler: Sendable {
    let daemon: RunnerDaemon
    let id: UInt64
    let peer: PeerCredentials

    /// Runs this connection started that have not finished yet.
    private let liveRuns = Mutex<Set<String>>([])

    init(daemon: RunnerDaemon, id: UInt64, peer: PeerCredentials) {
        self.daemon = daemon
        self.id = id
        self.peer = peer
    }

    func serve(_ connection: NIOAsyncChannel<[UInt8], [UInt8]>) async {
        do {
            try await connection.executeThenClose { inbound, outbound in
                let (outbox, post) = AsyncStream<RunnerMessage>.makeStream()
                try await withThrowingTaskGroup(of: Void.self) { group in
                    // The only writer of this channel: every message goes through the outbox.
                    group.addTask {
                        for await message in outbox {
                            try await outbound.write(MessageJSON.encode(message))
                            if case .error = message { return }
                        }
                    }
                    await handle(inbound, post: post)
                    post.finish()
                    try await group.next()
                    group.cancelAll()
                }
            }
        } catch {
            daemon.log("connection \(id) (pid \(peer.pid)) closed: \(error)")
        }
        let orphans = liveRuns.withLock { Array($0) }
        if !orphans.isEmpty { await cancelOrphans(orphans) }
    }

    private func handle(_ inbound: NIOAsyncChannelInboundStream<[UInt8]>, post: AsyncStream<RunnerMessage>.Continuation) async {
        var negotiated = false
        do {
            for try await frame in inbound {
                let message = try MessageJSON.decode(ClientMessage.self, from: frame)
                if !negotiated {
                    guard case .hello(let hello) = message else { throw ProtocolError("the first message must be hello") }
                    guard let version = hello.versions.filter(RunnerProtocol.supportedVersions.contains).max() else {
                        throw ProtocolError("no common protocol version (runner speaks \(RunnerProtocol.supportedVersions), client \(hello.versions))")
                    }
                    negotiated = true
                    post.yield(.welcome(Welcome(version: version, runnerVersion: RunnerDaemon.version)))
                    continue
                }
                switch message {
                case .hello: throw ProtocolError("hello was already exchanged")
                case .execute(let request): await execute(request, post: post)
                case .cancel(let runID):
                    if !(await daemon.scheduler.cancel(runID: runID)) {
                        post.yield(.rejected(runID: runID, reason: .badRequest, detail: "no queued or running run \(runID)"))
                    }
                case .collect(let runID):
                    if await daemon.registry.collect(runID, into: post) == .unknown {
                        post.yield(.rejected(runID: runID, reason: .badRequest, detail: "no run \(runID) is running or has a result kept"))
                    }
                case .status: post.yield(.status(await daemon.status()))
                case .drain: Task { await daemon.drainAndStop() }
                }
            }
        } catch let error as ProtocolError {
            daemon.log("connection \(id) (pid \(peer.pid)): protocol error: \(error.message)")
            post.yield(.error(message: error.message))
        } catch {
            daemon.log("connection \(id) (pid \(peer.pid)): \(error)")
            post.yield(.error(message: "\(error)"))
        }
    }

    /// Checks what can be checked before queueing, so a refusal is immediate and specific.
    private func execute(_ wire: ExecuteRequest, post: AsyncStream<RunnerMessage>.Continuation) async {
        let runID = wire.runID
        guard !runID.isEmpty, runID.utf8.count <= 128 else {
            post.yield(.rejected(runID: runID, reason: .badRequest, detail: "run_id must be 1 to 128 bytes"))
            return
        }
        guard !wire.arguments.isEmpty, !wire.arguments[0].isEmpty else {
            post.yield(.rejected(runID: runID, reason: .badRequest, detail: "argv is empty"))
            return
        }
        guard let profile = daemon.profiles[wire.profile] else {
            post.yield(.rejected(runID: runID, reason: .unknownProfile,
                                 detail: "no profile \(wire.profile) (loaded: \(daemon.profiles.names.joined(separator: ", ")))"))
            return
        }
        let limits = LimitRequest(wire.limits)
        do {
            _ = try profile.limits.resolve(limits)
        } catch {
            post.yield(.rejected(runID: runID, reason: .limitAboveCeiling, detail: error.description))
            return
        }
        // The bundle is unpacked (or found in the cache) now, so a bad one is refused at once.
        var bundle: BundleUnpacker.Unpacked?
        if let reference = wire.bundle {
            do {
                bundle = try await daemon.bundles.acquire(sha256: reference.sha256, data: reference.data)
            } catch {
                post.yield(.rejected(runID: runID, reason: .badBundle, detail: error.description))
                return
            }
        }
        let bundles = daemon.bundles
        let bundleHash = wire.bundle?.sha256
        let releaseBundle: @Sendable () async -> Void = {
            if let bundleHash { await bundles.release(sha256: bundleHash) }
        }
        var forwardLogs: (@Sendable (OutputStream, [UInt8]) -> Void)?
        if wire.streamLogs {
            let sequences = LogSequencer(), streamStdout = wire.streamStdout
            forwardLogs = { stream, bytes in
                if stream == .stdout && !streamStdout { return }  // it goes out once, in `finished`
                post.yield(.log(LogChunk(runID: runID, stream: stream.rawValue, sequence: sequences.next(stream), data: bytes)))
            }
        }
        let input: RunRequest.Input = wire.stdin.isEmpty ? .none : .bytes(wire.stdin)
        let scheduler = daemon.scheduler
        var request = RunRequest(
            arguments: wire.arguments,
            environment: wire.environment.map { EnvironmentVariable(name: $0.name, value: $0.value) },
            input: input, limits: limits, bundleDirectory: bundle?.root,
            workingDirectory: bundle.map { "/agent" + ($0.manifest.workdir.map { "/" + $0 } ?? "") },
            outputHandler: forwardLogs)
        // "started" means a slot was taken, which for a staged run happens inside the engine.
        let slotClock = SlotClock()
        request.onSlotAcquired = {
            slotClock.mark()
            post.yield(.started(runID: runID))
            Task { await scheduler.slotTaken(runID) }
        }
        let staged = request

        let engine = daemon.engine
        let registry = daemon.registry
        let submittedAt = ContinuousClock.now
        var logger = daemon.logger
        logger[metadataKey: "run_id"] = "\(runID)"
        logger[metadataKey: "connection"] = "\(id)"
        let runLogger = logger
        let job = RunScheduler.Job(
            runID: runID, connection: id,
            work: { ticket in
                runLogger.debug("run started", metadata: ["profile": "\(profile.name)", "argv0": "\(wire.arguments[0])"])
                let record: RunRecord
                var stdout: [UInt8] = []
                var request = staged
                request.slotTicket = ticket
                do {
                    let result = try await engine.run(request, profile: profile)
                    record = RunRecord(result)
                    stdout = result.stdout
                } catch {
                    record = .notRun(.setupError, profile: profile.name, detail: "\(error)")
                }
                let waited = (slotClock.marked ?? ContinuousClock.now) - submittedAt
                // The result goes out now; the bookkeeping after it must not hold the slot.
                let message = RunnerMessage.finished(runID: runID, record: record, stdout: stdout)
                post.yield(message)
                let finishedStdout = stdout
                Task {
                    await registry.finished(runID, message)
                    await releaseBundle()
                    _ = self.liveRuns.withLock { $0.remove(runID) }
                    RunnerMetrics.finished(outcome: record.outcome, record: record, queuedFor: waited)
                    runLogger.info("run finished", metadata: [
                        "outcome": "\(record.outcome)", "wall_us": "\(record.wallMicroseconds)",
                        "spawn_us": "\(record.spawnMicroseconds)", "stdout_bytes": "\(finishedStdout.count)",
                        "queued_us": "\(waited.components.seconds * 1_000_000 + waited.components.attoseconds / 1_000_000_000_000)",
                    ])
                }
            },
            dropped: { reason in
                Task { await releaseBundle() }
                _ = self.liveRuns.withLock { $0.remove(runID) }
                RunnerMetrics.finished(outcome: "cancelled", record: .notRun(.cancelled, profile: profile.name), queuedFor: ContinuousClock.now - submittedAt)
                // It never reached a sandbox: cancelled by its client, or dropped by a drain.
                runLogger.info("run cancelled before it started", metadata: ["reason": "\(reason)"])
                let message = RunnerMessage.finished(runID: runID, record: .notRun(.cancelled, profile: profile.name), stdout: [])
                post.yield(message)
                Task { await registry.finished(runID, message) }  // so a collect finds it, not a run forever "running"
            })
        self.liveRuns.withLock { _ = $0.insert(runID) }
        await registry.started(runID)
        switch await daemon.scheduler.submit(job) {
        case .started: post.yield(.accepted(runID: runID, queuePosition: 0))
        case .queued(let position): post.yield(.accepted(runID: runID, queuePosition: position))
        case .busy:
            await releaseBundle()
            await registry.forget(runID)
            self.liveRuns.withLock { _ = $0.remove(runID) }
            RunnerMetrics.rejected(.busy)
            post.yield(.rejected(runID: runID, reason: .busy, detail: "all \(daemon.configuration.slots) slots busy and \(daemon.configuration.queueCapacity) runs waiting"))
        case .draining:
            await releaseBundle()
            await registry.forget(runID)
            self.liveRuns.withLock { _ = $0.remove(runID) }
            post.yield(.rejected(runID: runID, reason: .draining, detail: "the runner is draining"))
        case .duplicate:
            await releaseBundle()
            post.yield(.rejected(runID: runID, reason: .duplicateRunID, detail: "run \(runID) is already queued or running"))
        }
    }

    /// A client that went away does not leave runs going forever: after the grace period,
    /// whatever of its runs is still queued or running is cancelled.
    private func cancelOrphans(_ runIDs: [String]) async {
        daemon.log("connection \(id) left \(runIDs.count) run(s); cancelling them after \(daemon.configuration.orphanGrace)")
        let deadline = ContinuousClock.now + daemon.configuration.orphanGrace
        while ContinuousClock.now < deadline, !liveRuns.withLock({ $0.isEmpty }) {
            try? await Task.sleep(for: .milliseconds(100))
        }
        for runID in liveRuns.withLock({ Array($0) }) where !(await daemon.registry.isAdopted(runID)) {
            _ = await daemon.scheduler.cancel(runID: runID)
        }
    }
}

/// Sequence numbers per stream of one run, from 0.
final class LogSequencer: Sendable {
    private let counters = Mutex<[OutputStream: Int]>([:])

    func next(_ stream: OutputStream) -> Int {
        counters.withLock { counters in
            let next = counters[stream, default: 0]
            counters[stream] = next + 1
            return next
        }
    }
}

/// When a run got its slot (queue wait = that minus submission).
final class SlotClock: Sendable {
    private let instant = Mutex<ContinuousClock.Instant?>(nil)
    func mark() { instant.withLock { $0 = .now } }
    var marked: ContinuousClock.Instant? { instant.withLock { $0 } }
}
