import ArgumentParser
import Foundation
import RunnerProtocol
import Sandbox

struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run the runner daemon: the runner protocol on a Unix socket, until SIGTERM (then drain).",
        discussion: "SIGHUP reloads the profiles (an invalid set is refused and the old one kept); SIGTERM or SIGINT drains and exits 0."
    )

    @Option(name: .long, help: "Unix socket to listen on.")
    var socket: String = "/run/agentgrid/runner.sock"

    @Option(name: .long, help: "Sandboxes at once (the concurrency cap).")
    var slots: Int = HostInfo.onlineCPUs

    @Option(name: .long, help: "Runs that may wait for a slot; more are refused as busy.")
    var queue: Int = 64

    @Option(name: .customLong("state-dir"), help: "Runner state (uid leases, the sandbox root mount point).")
    var stateDirectory: String = "/run/agentgrid"

    @Option(name: .long, help: "Directory of profiles.")
    var profiles: String?

    @Option(name: .long, help: "Name of this runner's cgroups (agentgrid/NAME); a restart under the same name cleans up after a crash.")
    var name: String = "runner"

    @Option(name: .customLong("allow-uid"), help: "A peer uid allowed to connect (root and the runner's own uid always are).")
    var allowUIDs: [UInt32] = []

    @Option(name: .customLong("allow-gid"), help: "A peer gid allowed to connect.")
    var allowGIDs: [UInt32] = []

    @Option(name: .long, help: "Seconds running work may take to finish after SIGTERM before it is cancelled.")
    var grace: Double = 30

    @Option(name: .customLong("orphan-grace"), help: "Seconds the runs of a disconnected client go on before they are cancelled.")
    var orphanGrace: Double = 60

    @Option(name: .long, help: "Serve Prometheus metrics at HOST:PORT/metrics (e.g. 127.0.0.1:9464).")
    var metrics: String?

    @Option(name: .customLong("bundle-cache"), help: "Disk space for unpacked bundles, e.g. 1G.")
    var bundleCache: String = "1G"

    func validate() throws {
        guard slots >= 1 else { throw ValidationError("--slots must be at least 1") }
        guard queue >= 0 else { throw ValidationError("--queue must be 0 or more") }
        guard grace >= 0, orphanGrace >= 0 else { throw ValidationError("grace periods must be 0 or more") }
        if let metrics, Self.hostPort(metrics) == nil { throw ValidationError("--metrics: \(metrics) is not HOST:PORT") }
        guard Quantity.bytes(bundleCache) != nil else { throw ValidationError("--bundle-cache: \(bundleCache) is not a size like 1G") }
    }

    static func hostPort(_ text: String) -> (host: String, port: Int)? {
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]),
              (1...65_535).contains(port), colon != text.startIndex else { return nil }
        return (String(text[..<colon]), port)
    }

    func run() async throws {
        let configuration = DaemonConfiguration(
            socketPath: socket, name: name, slots: slots, queueCapacity: queue, stateDirectory: stateDirectory,
            profilesDirectory: ProfileLocation.directory(profiles),
            peers: PeerPolicy(uids: Set(allowUIDs + [0, getuid()]), gids: Set(allowGIDs)),
            drainGrace: .milliseconds(Int64(grace * 1_000)), orphanGrace: .milliseconds(Int64(orphanGrace * 1_000)),
            maximumFrameBytes: RunnerProtocol.defaultMaximumFrameBytes,
            bundleCacheBytes: Quantity.bytes(bundleCache) ?? (1 << 30),
            metrics: metrics.flatMap(Self.hostPort))
        let daemon: RunnerDaemon
        do {
            daemon = try RunnerDaemon(configuration: configuration)
        } catch {
            fail("cannot start: \(error)", code: RunnerExit.setupError)
        }
        try await daemon.run()
    }
}
