import Sandbox

/// Admission and order of runs: at most `slots` at once, at most `queueCapacity` waiting,
/// and beyond that an immediate `busy` — memory stays bounded whatever the load. Waiting runs
/// are taken round-robin across connections, so one chatty client cannot starve the others.
///
/// Up to `slots` of the waiting runs are staged: launched already, waiting in the engine's own
/// slot pool, so a slot that frees is handed over inside the engine instead of after a round
/// trip through here (that hand-off cost ~20% of the throughput). The engine's pool still caps
/// the sandboxes at `slots`; a staged run counts as waiting until `slotTaken` says otherwise.
/// Each launched run takes its place in the engine's line here, at launch, so runs get slots
/// in the order they were launched even when a later run's task reaches the engine first.
actor RunScheduler {
    typealias ConnectionID = UInt64

    struct Job: Sendable {
        var runID: String
        var connection: ConnectionID
        /// The run itself, with its place in the engine's slot line (for its `RunRequest`);
        /// cancelling its task cancels the sandbox.
        var work: @Sendable (SlotTicket) async -> Void
        /// Called instead of `work` when the job is cancelled (or drained) before it started.
        var dropped: @Sendable (_ reason: DropReason) -> Void
    }

    enum DropReason: Sendable { case cancelled, draining }

    enum Admission: Sendable, Equatable {
        case started
        case queued(position: Int)
        case busy
        case draining
        case duplicate
    }

    let slots: Int
    let queueCapacity: Int
    private let engine: SandboxEngine
    /// Launched runs: in a slot (`inSlot`) or staged in front of the engine's pool.
    private var running: [String: Task<Void, Never>] = [:]
    private var inSlot: Set<String> = []
    private var queues: [ConnectionID: [Job]] = [:]
    private var rotation: [ConnectionID] = []
    private var draining = false
    private var idleWaiters: [CheckedContinuation<Void, Never>] = []

    init(engine: SandboxEngine, slots: Int, queueCapacity: Int) {
        self.engine = engine
        self.slots = slots
        self.queueCapacity = queueCapacity
    }

    /// Staged runs never exceed the queue's capacity: they are waiting runs.
    private var launchLimit: Int { slots + min(slots, queueCapacity) }

    /// The first `slots` launched runs hold (or are about to take) the slots: the engine's pool
    /// is FIFO and has that many. The rest of the launched ones are staged, i.e. waiting.
    var busySlots: Int { min(running.count, slots) }
    private var queuedCount: Int { queues.values.reduce(0) { $0 + $1.count } }
    var queueDepth: Int { queuedCount + max(0, running.count - slots) }

    /// The engine gave the run a slot: a drain lets it finish instead of cancelling it.
    func slotTaken(_ runID: String) {
        if running[runID] != nil { inSlot.insert(runID) }
    }

    var isDraining: Bool { draining }

    func submit(_ job: Job) -> Admission {
        if draining { return .draining }
        if running[job.runID] != nil || queues.values.contains(where: { $0.contains { $0.runID == job.runID } }) {
            return .duplicate
        }
        if running.count < slots {
            start(job)
            return .started
        }
        guard queueDepth < queueCapacity else { return .busy }
        if running.count < launchLimit && queuedCount == 0 {
            start(job)
            return .queued(position: running.count - slots)
        }
        if queues[job.connection] == nil { rotation.append(job.connection) }
        queues[job.connection, default: []].append(job)
        return .queued(position: queueDepth)
    }

    /// Cancels a queued run (never started) or a running one (the sandbox is killed).
    func cancel(runID: String) -> Bool {
        if let task = running[runID] {
            task.cancel()
            return true
        }
        for (connection, jobs) in queues {
            if let index = jobs.firstIndex(where: { $0.runID == runID }) {
                let job = queues[connection]!.remove(at: index)
                forgetIfEmpty(connection)
                job.dropped(.cancelled)
                return true
            }
        }
        return false
    }

    /// Stops admitting, drops the queue, lets running work finish for `grace`, then cancels it.
    func drain(grace: Duration) async {
        draining = true
        let waiting = queues.values.flatMap { $0 }
        queues.removeAll()
        rotation.removeAll()
        for job in waiting { job.dropped(.draining) }
        // Staged runs are waiting runs too: cancelled before they get a slot.
        for (runID, task) in running where !inSlot.contains(runID) { task.cancel() }
        let deadline = ContinuousClock.now + grace
        let watchdog = Task {
            try? await Task.sleep(until: deadline, clock: .continuous)
            if !Task.isCancelled { self.cancelRunning() }  // the grace ran out with work still going
        }
        await waitUntilIdle()
        watchdog.cancel()
    }

    private func cancelRunning() {
        for task in running.values { task.cancel() }
    }

    func waitUntilIdle() async {
        if running.isEmpty { return }
        await withCheckedContinuation { idleWaiters.append($0) }
    }

    private func start(_ job: Job) {
        let runID = job.runID, engine = self.engine
        let ticket = engine.placeInLine()
        running[runID] = Task {
            await job.work(ticket)
            engine.giveUp(ticket)  // in case the work never reached the engine
            self.finished(runID)
        }
    }

    private func finished(_ runID: String) {
        running[runID] = nil
        inSlot.remove(runID)
        while running.count < launchLimit, !draining, let next = nextJob() { start(next) }
        if running.isEmpty {
            for waiter in idleWaiters { waiter.resume() }
            idleWaiters.removeAll()
        }
    }

    private func nextJob() -> Job? {
        guard !rotation.isEmpty else { return nil }
        let connection = rotation.removeFirst()
        let job = queues[connection]!.removeFirst()
        if queues[connection]!.isEmpty {
            queues[connection] = nil
        } else {
            rotation.append(connection)  // back of the line: round-robin
        }
        return job
    }

    private func forgetIfEmpty(_ connection: ConnectionID) {
        if queues[connection]?.isEmpty == true {
            queues[connection] = nil
            rotation.removeAll { $0 == connection }
        }
    }
}
