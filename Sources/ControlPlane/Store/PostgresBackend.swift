@preconcurrency import AsyncKit
import Foundation
import Logging
import NIOPosix
import PostgresKit
import SQLKit

/// PostgreSQL through a connection pool; every session pins one pooled connection.
final class PostgresBackend: StoreBackend, @unchecked Sendable {
    // The pool is internally locked (AsyncKit documents it as thread-safe) but predates Sendable.
    private let pool: EventLoopGroupConnectionPool<PostgresConnectionSource>
    private let logger: Logger

    init(url: String, connections: Int, logger: Logger) throws {
        let configuration: SQLPostgresConfiguration
        do {
            configuration = try SQLPostgresConfiguration(url: url)
        } catch {
            throw StoreError.badLocation("DATABASE_URL is not a usable postgres:// URL (\(PostgresURL.redacted(url)))")
        }
        let group = MultiThreadedEventLoopGroup.singleton
        let loops = max(1, Array(group.makeIterator()).count)
        pool = EventLoopGroupConnectionPool(
            source: PostgresConnectionSource(sqlConfiguration: configuration),
            maxConnectionsPerEventLoop: max(1, connections / loops),
            requestTimeout: .seconds(10),
            pruneInterval: .seconds(60),
            logger: logger,
            on: group)
        self.logger = logger
    }

    func withSession<R: Sendable>(_ body: @escaping @Sendable (any SQLDatabase) async throws -> R) async throws -> R {
        try await pool.database(logger: logger).sql().withSession(body)
    }

    func close() async {
        try? await pool.shutdownAsync()
    }
}

enum PostgresURL {
    /// The URL with its password replaced, for logs and error messages.
    static func redacted(_ url: String) -> String {
        guard var components = URLComponents(string: url), components.password != nil else { return url }
        components.password = "***"
        return components.string ?? "postgres://…"
    }
}
