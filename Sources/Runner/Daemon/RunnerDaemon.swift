import Dispatch
import Foundation
import Logging
import NIOCore
import NIOPosix
import RunnerProtocol
import Sandbox
import Synchronization

struct DaemonConfiguration: Sendable {
    var socketPath: String
    /// The engine instance: cgroups live under agentgrid/NAME.
    var name: String
    var slots: Int
    var queueCapacity: Int
    var stateDirectory: String
    var profilesDirectory: String
    var peers: PeerPolicy
    /// How long running work may finish after SIGTERM before it is cancelled.
    var drainGrace: Duration
    /// How long runs of a disconnected client go on before they are cancelled.
    var orphanGrace: Duration
    var maximumFrameBytes: Int
    /// Unpacked bundles kept on disk (least recently used evicted first).
    var bundleCacheBytes: Int64
    /// Where to serve /metrics for Prometheus, if anywhere.
    var metrics: (host: String, port: Int)?
}

/// `agentgrid-runner serve`: the runner protocol on a Unix socket in front of one engine.
final class RunnerDaemon: Sendable {
    static let version = "0.1.0"

    let configuration: DaemonConfiguration
    let engine: SandboxEngine
    let scheduler: RunScheduler
    let profiles: ProfileStore
    let bundles: BundleCache
    let registry: RunRegistry
    let logger: Logger
    private let nextConnection = Mutex<UInt64>(0)
    private let serverChannel = Mutex<(any Channel)?>(nil)
    private let liveConnections = Mutex<[UInt64: any Channel]>([:])

    init(configuration: DaemonConfiguration) throws {
        self.configuration = configuration
        var logger = Logger(label: "agentgrid.runner")
        logger[metadataKey: "runner"] = "\(configuration.name)"
        self.logger = logger
        profiles = try ProfileStore(directory: configuration.profilesDirectory)
        // A runner that was killed left its slot cgroups behind under the same instance name:
        // the engine adopts them and kills whatever is still inside before serving.
        engine = try SandboxEngine(configuration: EngineConfiguration(
            slots: configuration.slots, instance: configuration.name, stateDirectory: configuration.stateDirectory))
        scheduler = RunScheduler(engine: engine, slots: configuration.slots, queueCapacity: configuration.queueCapacity)
        registry = RunRegistry(retention: configuration.orphanGrace)
        bundles = try BundleCache(directory: configuration.stateDirectory + "/bundles-\(configuration.name)",
                                  capacityBytes: configuration.bundleCacheBytes)
    }

    func log(_ message: String, level: Logger.Level = .info) {
        logger.log(level: level, "\(message)")
    }

    func run() async throws {
        // Before the socket accepts anything: a client that connects and at once sends SIGHUP
        // (or SIGTERM) must find it handled, not meet the default action that kills the process.
        let signals = SignalStream(signals: [SIGTERM, SIGINT, SIGHUP])
        let listener = UnixSocketListener(
            path: configuration.socketPath, peers: configuration.peers, maximumFrameBytes: configuration.maximumFrameBytes)
        let server = try await listener.bind { message in
            self.log(message, level: .warning)
            RunnerMetrics.peerRefused()
        }
        serverChannel.withLock { $0 = server.channel }
        var metricsChannel: (any Channel)?
        if let metrics = configuration.metrics {
            metricsChannel = try await MetricsServer.start(host: metrics.host, port: metrics.port, registry: RunnerMetrics.registry)
            log("metrics on http://\(metrics.host):\(metrics.port)/metrics")
        }
        let recovery = engine.recovery
        if !recovery.isClean {
            log("recovered after a crash: removed the cgroups of dead engines \(recovery.sweptGroups), "
                + "adopted slots \(recovery.adoptedSlots), emptied slots \(recovery.emptiedSlots)", level: .warning)
        }
        for slot in recovery.quarantinedSlots { log("slot out of service (could not be emptied): \(slot)", level: .error) }
        log("serving on \(listener.address): \(configuration.slots) slots, queue \(configuration.queueCapacity), profiles \(profiles.names)")

        try await withThrowingDiscardingTaskGroup { group in
            group.addTask {
                for await signal in signals.stream {
                    if signal == SIGHUP {
                        self.reloadProfiles()
                    } else {
                        await self.drainAndStop()
                        return
                    }
                }
            }
            try await server.executeThenClose { inbound in
                for try await (peer, connection) in inbound {
                    let id = self.nextConnection.withLock { value -> UInt64 in value += 1; return value }
                    self.liveConnections.withLock { $0[id] = connection.channel }
                    group.addTask {
                        await ConnectionHandler(daemon: self, id: id, peer: peer).serve(connection)
                        _ = self.liveConnections.withLock { $0.removeValue(forKey: id) }
                    }
                }
            }
        }
        signals.stop()
        try? await metricsChannel?.close()
        await engine.shutdown()
        listener.cleanUp()
        log("stopped")
    }

    func reloadProfiles() {
        if let error = profiles.reload() {
            log("SIGHUP: profiles not reloaded, keeping \(profiles.names): \(error)")
        } else {
            log("SIGHUP: profiles reloaded: \(profiles.names)")
        }
    }

    /// Stop accepting, let running work finish within the grace period, cancel the rest,
    /// report every outcome, then close every connection.
    func drainAndStop() async {
        log("draining: no new connections or runs; running work has \(configuration.drainGrace) to finish")
        try? await serverChannel.withLock { $0 }?.close()
        await scheduler.drain(grace: configuration.drainGrace)
        // Let the last "finished" messages reach their clients before closing.
        try? await Task.sleep(for: .milliseconds(100))
        for channel in liveConnections.withLock({ Array($0.values) }) { channel.close(promise: nil) }
    }

    func status() async -> StatusReport {
        StatusReport(
            runnerVersion: Self.version, slots: configuration.slots, slotsBusy: await scheduler.busySlots,
            queueCapacity: configuration.queueCapacity, queueDepth: await scheduler.queueDepth,
            profiles: profiles.names, draining: await scheduler.isDraining,
            quarantinedSlots: await engine.quarantinedSlots, hostSafe: HostCheck.probe().safe)
    }
}

/// SIGTERM/SIGINT/SIGHUP as an async sequence instead of process death.
final class SignalStream: Sendable {
    let stream: AsyncStream<Int32>
    private let sources: Mutex<[any DispatchSourceSignal]>

    init(signals: [Int32]) {
        let (stream, continuation) = AsyncStream<Int32>.makeStream()
        self.stream = stream
        sources = Mutex(signals.map { number in
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler { continuation.yield(number) }
            source.resume()
            return source
        })
    }

    func stop() {
        sources.withLock { for source in $0 { source.cancel() } }
    }
}
