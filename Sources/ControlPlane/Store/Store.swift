import Logging
import SQLKit

/// Which SQL engine is behind the store. Queries are written once; the few places where the
/// engines differ (how a write transaction starts, row locking) ask this.
public enum StoreEngine: String, Sendable {
    case sqlite, postgres
}

/// The one door to the database. Reads run on any connection; writes run inside a
/// transaction on one pinned connection, committed as a whole or not at all.
public final class Store: Sendable {
    public let engine: StoreEngine
    public let location: StoreLocation
    private let backend: any StoreBackend

    init(engine: StoreEngine, location: StoreLocation, backend: any StoreBackend) {
        self.engine = engine
        self.location = location
        self.backend = backend
    }

    /// Opens the database named by `location` (a file path for SQLite, a `postgres://` URL).
    public static func open(_ location: StoreLocation, logger: Logger) async throws -> Store {
        switch location {
        case .sqlite(let path):
            return Store(engine: .sqlite, location: location, backend: try await SQLiteBackend.open(path: path, logger: logger))
        case .postgres(let url, let connections):
            return Store(engine: .postgres, location: location, backend: try PostgresBackend(url: url, connections: connections, logger: logger))
        }
    }

    /// Runs statements outside a transaction; each sees committed data. Only reads: on SQLite
    /// they run on a read-only connection beside the writer.
    public func read<R: Sendable>(_ body: @escaping @Sendable (any SQLDatabase) async throws -> R) async throws -> R {
        try await backend.withReadSession(body)
    }

    /// Runs `body` in one transaction. On SQLite the write lock is taken up front
    /// (`BEGIN IMMEDIATE`), so two writers never deadlock upgrading read locks. The transaction
    /// runs to COMMIT or ROLLBACK even when the caller is cancelled: a cancellation that cut it
    /// short would leave the connection inside an open transaction (on SQLite, the only writer).
    public func transaction<R: Sendable>(_ body: @escaping @Sendable (any SQLDatabase) async throws -> R) async throws -> R {
        let begin = engine == .sqlite ? "BEGIN IMMEDIATE" : "BEGIN"
        let backend = self.backend
        // Started on the writer's own executor (SQLite's connection thread), not the global
        // pool: one thread hop fewer for each transaction.
        return try await Task(executorPreference: backend.writerExecutor) {
            try await backend.withSession { db in
                try await db.raw(SQLQueryString(begin)).run()
                let result: R
                do {
                    result = try await body(db)
                } catch {
                    try? await db.raw("ROLLBACK").run()
                    throw error
                }
                do {
                    try await db.raw("COMMIT").run()
                } catch {
                    try? await db.raw("ROLLBACK").run()  // a failed COMMIT may leave the transaction open
                    throw error
                }
                return result
            }
        }.value
    }

    public func close() async {
        await backend.close()
    }
}

/// Where the data lives: the embedded default or a PostgreSQL server.
public enum StoreLocation: Sendable, Equatable {
    case sqlite(path: String)
    case postgres(url: String, connections: Int)

    public var description: String {
        switch self {
        case .sqlite(let path): "sqlite:\(path)"
        case .postgres(let url, _): "postgres:\(PostgresURL.redacted(url))"
        }
    }
}

protocol StoreBackend: Sendable {
    /// A session that may write (transactions run in one).
    func withSession<R: Sendable>(_ body: @escaping @Sendable (any SQLDatabase) async throws -> R) async throws -> R
    /// A session for reads only.
    func withReadSession<R: Sendable>(_ body: @escaping @Sendable (any SQLDatabase) async throws -> R) async throws -> R
    /// Where the writing session's work runs, when it has a place of its own.
    var writerExecutor: (any TaskExecutor)? { get }
    func close() async
}

extension StoreBackend {
    var writerExecutor: (any TaskExecutor)? { nil }

    func withReadSession<R: Sendable>(_ body: @escaping @Sendable (any SQLDatabase) async throws -> R) async throws -> R {
        try await withSession(body)
    }
}
