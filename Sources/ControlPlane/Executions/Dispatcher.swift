import Foundation
import Logging
import RunnerProtocol

/// How the dispatcher paces itself; the defaults suit one node, tests shorten them.
struct DispatchSettings: Sendable {
    /// How long a node's claim on a running execution lasts without renewal; another node (or
    /// this one after a restart) recovers the run once it has expired.
    var lease: Duration = .seconds(15)
    /// Pending work is looked for this often even without a wake-up (another node's submit).
    var pollInterval: Duration = .seconds(1)
    /// A runner unreachable this long loses the runs it had.
    var runnerLostAfter: Duration = .seconds(10)
}

/// The control plane's side of the queue: claims pending executions for runners with free
/// slots, sends them over the runner protocol, and settles each result exactly once. Woken by
/// submits and freed slots (and NOTIFY from other nodes on PostgreSQL), and by a poll.
actor Dispatcher: RunnerLinkDelegate {
    private struct Flight {
        let link: RunnerLink
        /// nil for a run recovered from a runner (read from the store when its result comes).
        var bundleHash: String?
    }

    /// What a bundle's runs need, read once per hash (bundles are immutable).
    private struct Plan {
        var manifest: AgentManifest
        var outputSchema: OutputSchema?
    }

    private let store: Store
    private let events: ExecutionEvents
    private let control: DispatchControl
    private let settings: DispatchSettings
    private let logger: Logger
    let node: String
    let links: [RunnerLink]

    private var flights: [String: Flight] = [:]
    private var cancelWanted: Set<String> = []
    private var dispatching = false
    /// False once a claim found the queue empty, until a wake-up says new work may be there:
    /// a slot freeing up then costs no claim that would find nothing.
    private var queueMayHaveWork = true
    private var dispatchAgain = false
    private var plans: [String: Plan] = [:]

    init(services: ControlPlaneServices, runners: [RunnerEndpoint], settings: DispatchSettings, node: String = RandomID.uuid()) {
        store = services.store
        events = services.events
        control = services.dispatch
        self.settings = settings
        logger = services.logger
        self.node = node
        links = runners.map { RunnerLink(endpoint: $0, lostAfter: settings.runnerLostAfter, logger: services.logger) }
        for endpoint in runners { services.dispatch.setRunner(endpoint.name, connected: false) }
    }

    /// Runs until the task is cancelled.
    func run() async {
        for link in links { await link.attach(self) }
        let control = self.control, store = self.store, settings = self.settings
        await withTaskGroup(of: Void.self) { group in
            for link in links {
                group.addTask { await link.run() }
            }
            group.addTask {
                for await _ in control.wakeups { await self.dispatchPending() }
            }
            group.addTask {
                for await id in control.cancels { await self.cancel(id) }
            }
            group.addTask {
                while !Task.isCancelled {
                    control.wake()
                    try? await Task.sleep(for: settings.pollInterval)
                }
            }
            group.addTask {
                while !Task.isCancelled {
                    await self.maintainLeases()
                    try? await Task.sleep(for: settings.lease / 5)
                }
            }
            if let notifications = store.executionNotifications(logger: logger) {
                group.addTask {
                    for await _ in notifications { control.wake() }
                }
            }
            await group.waitForAll()
        }
    }

    // MARK: Dispatch

    private func dispatchPending() async {
        if dispatching {
            dispatchAgain = true
            return
        }
        dispatching = true
        defer { dispatching = false }
        repeat {
            dispatchAgain = false
            if control.takeNewWork() { queueMayHaveWork = true }
            guard queueMayHaveWork else { continue }
            for link in links { control.setRunner(link.endpoint.name, connected: await link.isConnected) }
            if links.count == 1 {
                guard await fillRound(.queue) != nil else { return }  // one claim takes it all
            } else {
                // Idle slots on every runner first, then their queues a slot's worth at a time,
                // round-robin: work spreads over the runners instead of filling the first one's
                // queue while another has nothing to do.
                guard await fillRound(.slots) != nil else { return }
                while queueMayHaveWork, await fillRound(.queue) == true {}
            }
        } while dispatchAgain
    }

    /// Claims pending executions for the runners and launches them: with `.slots`, as many as
    /// each has idle slots; with `.queue`, up to its queue's capacity, a slot's worth per round
    /// (least loaded runner first) when there are several runners.
    /// Whether any were claimed; nil when claiming failed (the next wake-up or poll tries again).
    private func fillRound(_ depth: OfferDepth) async -> Bool? {
        var claimedAny = false
        for link in depth == .queue && links.count > 1 ? await linksByLoad() : links {
            let capacity = await link.freeCapacity(depth)
            let free = depth == .queue && links.count > 1 ? min(capacity, await link.slotCount) : capacity
            guard free > 0 else { continue }
            let claimed: [ClaimedExecution]
            do {
                let lease = leaseUntil(), node = self.node, engine = store.engine, name = link.endpoint.name
                claimed = try await store.transaction { db in
                    try await ExecutionStore.claim(limit: free, runner: name, node: node, leaseUntil: lease, engine: engine, in: db)
                }
            } catch is CancellationError {
                return nil
            } catch {
                logger.error("claiming pending executions failed", metadata: ["error": "\(String(reflecting: error))"])
                return nil
            }
            claimedAny = claimedAny || !claimed.isEmpty
            for execution in claimed { await launch(execution, on: link) }
            if claimed.count < free {  // the queue is empty
                queueMayHaveWork = false
                return claimedAny
            }
        }
        return claimedAny
    }

    /// The least loaded runner first (runs offered per slot): work that arrives a run at a
    /// time queues where the wait is shortest, not always on the first runner.
    private func linksByLoad() async -> [RunnerLink] {
        var loads: [(link: RunnerLink, offered: Int, slots: Int)] = []
        for link in links { loads.append((link, await link.offered, max(1, await link.slotCount))) }
        return loads.sorted { $0.offered * $1.slots < $1.offered * $0.slots }.map(\.link)
    }

    private func launch(_ execution: ClaimedExecution, on link: RunnerLink) async {
        let id = execution.id
        guard let hash = execution.bundleHash, let manifest = await plan(hash)?.manifest else {
            await end(id, .refused("the agent has no runnable bundle"))
            return
        }
        if execution.cancelRequested || cancelWanted.contains(id) {
            cancelWanted.remove(id)
            await end(id, .cancelledBeforeStart())
            return
        }
        flights[id] = Flight(link: link, bundleHash: hash)
        events.began(id)
        var sentData = false
        while true {
            var data: [UInt8]?
            if !(await link.knowsBundle(hash)) {
                data = try? await store.read { db in try await BundleStore.archive(sha256: hash, in: db) }
                guard data != nil else {
                    flights.removeValue(forKey: id)
                    await end(id, .refused("bundle \(hash) is missing from the store"))
                    return
                }
                sentData = true
            }
            let request = ExecuteRequest(
                runID: id, profile: manifest.profile, arguments: manifest.entrypoint,
                limits: RequestedLimits(memoryBytes: manifest.memoryBytes, pids: manifest.pids, wallTimeMs: manifest.wallTimeMs),
                // stderr live for the run's log and event stream; stdout (the outputs) in `finished` only.
                stdin: Array(execution.inputs.utf8), streamLogs: true, streamStdout: false,
                bundle: BundleReference(sha256: hash, data: data))
            switch await link.execute(request) {
            case .accepted:
                if cancelWanted.remove(id) != nil { await link.cancel(id) }
                return
            case .connectionLost:
                return  // the link collects it when it reconnects, or reports it lost
            case .rejected(.badBundle, _) where !sentData:
                await link.forgetBundle(hash)  // the runner evicted it: send it inline this time
                continue
            case .rejected(.busy, _), .rejected(.draining, _):
                flights.removeValue(forKey: id)
                events.ended(id, status: .pending)
                queueMayHaveWork = true
                do {
                    let node = self.node
                    try await store.transaction { db in try await ExecutionStore.release(id: id, node: node, in: db) }
                } catch {
                    logger.error("could not requeue an execution the runner was too busy for",
                                 metadata: ["execution_id": "\(id)", "error": "\(String(reflecting: error))"])
                }
                return
            case .rejected(let reason, let detail):
                flights.removeValue(forKey: id)
                await end(id, .refused("\(reason.rawValue): \(detail)"))
                return
            }
        }
    }

    private func plan(_ hash: String) async -> Plan? {
        if let known = plans[hash] { return known }
        guard let manifest = try? await store.read({ db in try await BundleStore.manifest(sha256: hash, in: db) }) else { return nil }
        // The schema compiled at upload; one that no longer compiles is not enforced rather than failing every run.
        let plan = Plan(manifest: manifest, outputSchema: manifest.outputSchema.flatMap { try? OutputSchema.compile($0) })
        plans[hash] = plan
        return plan
    }

    // MARK: Results

    func runLog(_ runID: String, _ text: String) async {
        events.log(runID, text)
    }

    func runFinished(_ runID: String, record: RunRecord, stdout: [UInt8]) async {
        var hash = flights.removeValue(forKey: runID)?.bundleHash
        if hash == nil { hash = try? await store.read({ db in try await ExecutionStore.find(id: runID, in: db) })?.bundleHash }
        let schema = if let hash { await plan(hash)?.outputSchema } else { OutputSchema?.none }
        await end(runID, RunEnding.from(record: record, stdout: stdout, logs: events.stderr(runID) ?? "", outputSchema: schema))
    }

    func runLost(_ runID: String, why: String) async {
        flights.removeValue(forKey: runID)
        var ending = RunEnding.runnerLost(why)
        ending.logs = events.stderr(runID)
        await end(runID, ending)
    }

    func capacityChanged() async {
        control.capacityFreed()
    }

    /// Settles, retrying a store that is briefly unreachable: a result is never dropped for that.
    private func end(_ id: String, _ ending: RunEnding) async {
        for attempt in 1...5 {
            do {
                let settled = try await Settlement.settle(id, ending, store: store)
                if settled != nil { events.ended(id, status: ending.status) }
                return
            } catch {
                logger.error("settling an execution failed", metadata: [
                    "execution_id": "\(id)", "attempt": "\(attempt)", "error": "\(String(reflecting: error))"])
                try? await Task.sleep(for: .milliseconds(200 * attempt))
            }
        }
        // Still running in the store with a lease nobody renews: recovery collects it again.
    }

    // MARK: Cancel and recovery

    private func cancel(_ id: String) async {
        if let flight = flights[id] {
            await flight.link.cancel(id)
        } else {
            cancelWanted.insert(id)  // claimed but not sent yet, or sent by another node (its lease loop sees it)
        }
    }

    /// Renews this node's leases (picking up cancels recorded by other nodes), and takes over
    /// runs whose node stopped renewing: those sent to a runner are collected from it, those
    /// never sent go back to the queue.
    private func maintainLeases() async {
        let ids = Array(flights.keys), node = self.node, until = leaseUntil()
        do {
            let cancelled = try await store.transaction { db in try await ExecutionStore.renewLeases(ids: ids, node: node, until: until, in: db) }
            for id in cancelled { await cancel(id) }
            let orphaned = try await store.transaction { db in
                try await ExecutionStore.takeOverExpired(node: node, now: Timestamp.now(), until: until, in: db)
            }
            for (id, runner) in orphaned where flights[id] == nil {
                guard let runner else {
                    try await store.transaction { db in try await ExecutionStore.release(id: id, node: node, in: db) }
                    control.wake()
                    continue
                }
                guard let link = links.first(where: { $0.endpoint.name == runner }) else {
                    await end(id, .runnerLost("its runner \(runner) is not among this node's runners"))
                    continue
                }
                logger.info("recovering an execution from its runner", metadata: ["execution_id": "\(id)", "runner": "\(runner)"])
                flights[id] = Flight(link: link, bundleHash: nil)
                events.began(id)
                await link.collect(id)
            }
            for link in links { control.setRunner(link.endpoint.name, connected: await link.isConnected) }
        } catch {
            logger.error("lease maintenance failed", metadata: ["error": "\(String(reflecting: error))"])
        }
    }

    private func leaseUntil() -> Int64 {
        let (seconds, attoseconds) = settings.lease.components
        return Timestamp.now() + seconds * 1_000_000 + attoseconds / 1_000_000_000_000
    }

    /// Test hook: delivers a runner result as if it had arrived (again) on a link.
    func deliver(_ runID: String, record: RunRecord, stdout: [UInt8]) async {
        await runFinished(runID, record: record, stdout: stdout)
    }
}
