import Logging
import NIOPosix
import PostgresKit
import SQLKit

/// Wakes dispatchers on every node when work is queued: on PostgreSQL a submit's transaction
/// sends `NOTIFY agentgrid_executions` (delivered at commit) and each node LISTENs on a
/// connection of its own. SQLite has one process, where the in-process wake-up is enough.
enum ExecutionNotifications {
    static let channel = "agentgrid_executions"

    /// Queues the notification inside the caller's transaction (PostgreSQL only).
    static func notify(engine: StoreEngine, in db: any SQLDatabase) async throws {
        guard engine == .postgres else { return }
        try await db.raw("SELECT pg_notify(\(bind: channel), '')").run()
    }
}

extension Store {
    /// One element per notification, reconnecting after a lost connection; nil on SQLite.
    func executionNotifications(logger: Logger) -> AsyncStream<Void>? {
        guard case .postgres(let url, _) = location, let configuration = try? SQLPostgresConfiguration(url: url) else { return nil }
        return AsyncStream(bufferingPolicy: .bufferingNewest(1)) { continuation in
            let task = Task {
                var attempt = 0
                while !Task.isCancelled {
                    do {
                        let connection = try await PostgresConnection.connect(
                            on: MultiThreadedEventLoopGroup.singleton.any(), configuration: configuration.coreConfiguration,
                            id: 0, logger: logger).get()
                        attempt = 0
                        do {
                            try await connection.listen(on: ExecutionNotifications.channel) { notifications in
                                continuation.yield()  // anything queued while not listening
                                for try await _ in notifications { continuation.yield() }
                            }
                        } catch {
                            logger.warning("LISTEN \(ExecutionNotifications.channel) ended", metadata: ["error": "\(error)"])
                        }
                        try? await connection.close()
                    } catch {
                        attempt += 1
                        if attempt == 1 { logger.warning("cannot LISTEN for executions", metadata: ["error": "\(String(reflecting: error))"]) }
                    }
                    try? await Task.sleep(for: .milliseconds(min(2_000, 100 * (1 << min(attempt, 5)))))
                }
                continuation.finish()
            }
            continuation.onTermination = { _ in task.cancel() }
        }
    }
}
