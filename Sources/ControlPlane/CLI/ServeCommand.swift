import ArgumentParser
import Hummingbird
import Logging

struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve", abstract: "Run the HTTP API (migrates the store first). Stops gracefully on SIGTERM/SIGINT.")

    @OptionGroup var store: StoreOptions

    @Option(help: "Address to listen on (env AGENTGRID_HOST, default 127.0.0.1).")
    var host: String?

    @Option(help: "Port to listen on (env AGENTGRID_PORT, default 8000; 0 picks a free port).")
    var port: Int?

    func run() async throws {
        HeapTrimming.keepFreedMemory()
        var config = try store.config()
        if let host { config.host = host }
        if let port { config.port = port }
        LoggingSystem.bootstrap { label in StreamLogHandler.standardError(label: label) }
        let logger = makeLogger(level: config.logLevel)
        _ = ControlPlaneMetrics.registry
        let db: Store
        let services: ControlPlaneServices
        do {
            // A missing or weak AGENTGRID_SECRET_KEY is reported before connecting to PostgreSQL,
            // not hidden behind a connection error (SQLite's key file needs the data directory first).
            if config.databaseURL != nil { _ = try SecretKeys.resolve(config) }
            db = try await ControlPlaneBootstrap.openStore(config, logger: logger)
            services = try await ControlPlaneBootstrap.services(config, store: db, logger: logger)
        } catch {
            throw failStartup(error)
        }
        let localRunner: LocalRunner?
        let runners: [RunnerEndpoint]
        do {
            localRunner = config.runners == nil ? try await LocalRunner.start(config: config, logger: logger) : nil
            runners = config.runners ?? [localRunner!.endpoint]
        } catch {
            await db.close()
            throw failStartup(error)
        }
        logger.info("starting", metadata: ["store": "\(config.storeLocation.description)", "address": "\(config.host):\(config.port)",
                                           "runners": "\(runners.map(\.name).joined(separator: ","))"])
        let app = ControlPlaneApp.application(services: services, host: config.host, port: config.port)
        let dispatcher = Dispatcher(services: services, runners: runners, settings: config.dispatch)
        // runService handles SIGTERM/SIGINT: stop accepting, finish in-flight requests, return.
        // Runs still going are left to their runner; the next start collects their results.
        let outcome: Result<Void, any Error> = await withTaskGroup(of: Void.self) { group in
            group.addTask { await dispatcher.run() }
            let outcome: Result<Void, any Error>
            do { try await app.runService(); outcome = .success(()) } catch { outcome = .failure(error) }
            group.cancelAll()
            return outcome
        }
        await localRunner?.stop()
        await db.close()
        try outcome.get()
    }
}
