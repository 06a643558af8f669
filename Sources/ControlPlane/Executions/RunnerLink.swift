import Logging
import RunnerProtocol

/// What a runner link reports to the dispatcher about the runs it carries.
protocol RunnerLinkDelegate: Sendable {
    func runLog(_ runID: String, _ text: String) async
    func runFinished(_ runID: String, record: RunRecord, stdout: [UInt8]) async
    /// The runner cannot say how the run ended (it restarted, or stayed unreachable too long).
    func runLost(_ runID: String, why: String) async
    /// Capacity may have changed: a run ended, or the link (re)connected.
    func capacityChanged() async
}

/// One long-lived connection to one runner, carrying many runs at once. It knows the runner's
/// slots and how many of our runs it holds, which bundles it has already been sent, and what to
/// do when the connection drops: reconnect, `collect` each run that was in flight, and report as
/// lost only the runs the runner no longer knows or that it cannot reach in time.
/// How deep the dispatcher fills a runner: its slots first (every runner gets work), then its queue.
enum OfferDepth: Sendable { case slots, queue }

actor RunnerLink {
    enum Admission: Sendable, Equatable {
        case accepted
        case rejected(RejectReason, String)
        /// The connection dropped before the runner answered; the run is collected on reconnect.
        case connectionLost
    }

    let endpoint: RunnerEndpoint
    private let lostAfter: Duration
    private let logger: Logger
    private var delegate: (any RunnerLinkDelegate)?

    private var sender: RunnerSender?
    private var slots = 0
    private var queueCapacity = 0
    /// Sent and not yet finished.
    private var inflight: Set<String> = []
    private var awaitingAdmission: [String: CheckedContinuation<Admission, Never>] = [:]
    /// Runs asked for with `collect`: a `rejected` for one of them means the runner forgot it.
    private var collecting: Set<String> = []
    /// In flight when the connection dropped; collected once it is back.
    private var orphans: Set<String> = []
    private var knownBundles: Set<String> = []
    /// Each run's stderr as text: a character split across two log chunks is kept whole.
    private var stderrText: [String: UTF8StreamDecoder] = [:]
    /// After a `busy`, the runner gets a moment before it is offered more.
    private var busyUntil: ContinuousClock.Instant?

    init(endpoint: RunnerEndpoint, lostAfter: Duration, logger: Logger) {
        self.endpoint = endpoint
        self.lostAfter = lostAfter
        self.logger = logger
    }

    func attach(_ delegate: any RunnerLinkDelegate) { self.delegate = delegate }

    var isConnected: Bool { sender != nil }
    /// The runner's slots, as its status last said.
    var slotCount: Int { slots }
    /// Runs sent and not finished, or being sent.
    var offered: Int { inflight.count + awaitingAdmission.count }

    /// How many more runs to offer now. `.slots`: enough for every idle slot. `.queue`: the
    /// runner's wait queue too, so a slot that frees starts the next run inside the runner,
    /// without a round trip through the control plane (keeping only one run waiting per slot
    /// left slots idle while a loaded control plane answered: 17% of the end-to-end throughput).
    func freeCapacity(_ depth: OfferDepth) -> Int {
        guard sender != nil, busyUntil.map({ ContinuousClock.now >= $0 }) ?? true else { return 0 }
        return max(0, slots + (depth == .queue ? queueCapacity : 0) - offered)
    }

    func knowsBundle(_ sha256: String) -> Bool { knownBundles.contains(sha256) }
    func forgetBundle(_ sha256: String) { knownBundles.remove(sha256) }

    // MARK: Requests

    func execute(_ request: ExecuteRequest) async -> Admission {
        guard let sender else { return .rejected(.busy, "not connected") }
        let runID = request.runID
        let admission = await withCheckedContinuation { continuation in
            awaitingAdmission[runID] = continuation
            Task {
                do { try await sender.send(.execute(request)) } catch { self.sendFailed(runID) }
            }
        }
        switch admission {
        case .accepted:
            if let bundle = request.bundle, bundle.data != nil { knownBundles.insert(bundle.sha256) }
        case .rejected(.busy, _), .rejected(.draining, _):
            busyUntil = ContinuousClock.now + .milliseconds(20)
        case .rejected, .connectionLost:
            break
        }
        return admission
    }

    func cancel(_ runID: String) async {
        guard let sender, inflight.contains(runID) else { return }
        try? await sender.send(.cancel(runID: runID))
    }

    /// Takes over a run another (or an earlier) control plane sent to this runner.
    func collect(_ runID: String) async {
        guard let sender else {
            orphans.insert(runID)
            return
        }
        inflight.insert(runID)
        collecting.insert(runID)
        do { try await sender.send(.collect(runID: runID)) } catch {
            inflight.remove(runID)
            collecting.remove(runID)
            orphans.insert(runID)
        }
    }

    private func sendFailed(_ runID: String) {
        // The connection is going; `disconnected()` turns the run into an orphan to collect.
        if let continuation = awaitingAdmission.removeValue(forKey: runID) {
            inflight.insert(runID)
            continuation.resume(returning: .connectionLost)
        }
    }

    // MARK: The connection

    /// Keeps the link up until the task is cancelled.
    func run() async {
        var backoff = Duration.milliseconds(50)
        var lostSince: ContinuousClock.Instant?
        while !Task.isCancelled {
            let connected = await connectAndServe()
            disconnected()
            if connected { lostSince = nil; backoff = .milliseconds(50) }
            let since = lostSince ?? ContinuousClock.now
            lostSince = since
            if !orphans.isEmpty, ContinuousClock.now - since >= lostAfter {
                let lost = orphans
                orphans.removeAll()
                for runID in lost {
                    stderrText[runID] = nil
                    await delegate?.runLost(runID, why: "the runner at \(endpoint) did not come back within \(lostAfter)")
                }
            }
            try? await Task.sleep(for: backoff)
            backoff = min(backoff * 2, .seconds(1))
        }
    }

    /// One connection's life; true when it got as far as the welcome.
    private nonisolated func connectAndServe() async -> Bool {
        var welcomed = false
        do {
            let client = try await RunnerClient.connect(socketPath: endpoint.socketPath)
            try await client.withSession(client: "agentgrid-control-plane") { session in
                welcomed = true
                try await session.send(.status)
                var status: StatusReport?
                while status == nil, let message = try await session.next() {
                    if case .status(let report) = message { status = report }
                }
                guard let status else { return }
                await self.connected(session.sender, status)
                while let message = try await session.next() {
                    await self.handle(message)
                }
            }
        } catch {
            if welcomed, !Task.isCancelled { logger.warning("runner connection lost", metadata: ["runner": "\(endpoint)", "error": "\(error)"]) }
        }
        return welcomed
    }

    private func connected(_ sender: RunnerSender, _ status: StatusReport) async {
        self.sender = sender
        slots = status.slots
        queueCapacity = status.queueCapacity
        knownBundles.removeAll()  // perhaps a different runner process now
        busyUntil = nil
        logger.info("runner connected", metadata: ["runner": "\(endpoint)", "slots": "\(status.slots)", "version": "\(status.runnerVersion)"])
        let toCollect = orphans
        orphans.removeAll()
        for runID in toCollect { await collect(runID) }
        await delegate?.capacityChanged()
    }

    private func disconnected() {
        sender = nil
        for (runID, continuation) in awaitingAdmission {
            inflight.insert(runID)
            continuation.resume(returning: .connectionLost)
        }
        awaitingAdmission.removeAll()
        orphans.formUnion(inflight)
        inflight.removeAll()
        collecting.removeAll()
    }

    private func handle(_ message: RunnerMessage) async {
        switch message {
        case .accepted(let runID, _):
            if let continuation = awaitingAdmission.removeValue(forKey: runID) {
                inflight.insert(runID)
                continuation.resume(returning: .accepted)
            }
        case .rejected(let runID, let reason, let detail):
            if let continuation = awaitingAdmission.removeValue(forKey: runID) {
                continuation.resume(returning: .rejected(reason, detail))
            } else if collecting.remove(runID) != nil {
                inflight.remove(runID)
                stderrText[runID] = nil
                await delegate?.runLost(runID, why: "the runner at \(endpoint) has no record of it (\(detail))")
                await delegate?.capacityChanged()
            }
            // Otherwise a cancel that came too late for a run that had already finished.
        case .log(let chunk):
            guard chunk.stream == "stderr" else { break }
            var decoder = stderrText[chunk.runID] ?? UTF8StreamDecoder()
            let text = decoder.decode(chunk.data)
            stderrText[chunk.runID] = decoder
            if !text.isEmpty { await delegate?.runLog(chunk.runID, text) }
        case .finished(let runID, let record, let stdout):
            // A finished that races its own accepted (a run too short to notice) still admits it.
            awaitingAdmission.removeValue(forKey: runID)?.resume(returning: .accepted)
            inflight.remove(runID)
            collecting.remove(runID)
            if let tail = stderrText.removeValue(forKey: runID)?.remainder, !tail.isEmpty { await delegate?.runLog(runID, tail) }
            await delegate?.runFinished(runID, record: record, stdout: stdout)
            await delegate?.capacityChanged()
        case .status(let report):
            slots = report.slots
            queueCapacity = report.queueCapacity
        case .started, .welcome:
            break
        case .error(let text):
            logger.error("runner reported a protocol error", metadata: ["runner": "\(endpoint)", "error": "\(text)"])
        }
    }
}
