import Logging
import NIOPosix
import SQLKit
import SQLiteKit

/// The embedded default: one file, one connection. SQLite allows one writer at a time anyway;
/// a single connection behind a FIFO lock means no `SQLITE_BUSY` inside the process, and
/// `busy_timeout` covers other processes (`agentgrid users set-role` while the server runs).
final class SQLiteBackend: StoreBackend {
    private let connection: SQLiteConnection
    private let database: any SQLDatabase
    private let mutex = AsyncMutex()

    private init(connection: SQLiteConnection) {
        self.connection = connection
        self.database = connection.sql()
    }

    static func open(path: String, logger: Logger) async throws -> SQLiteBackend {
        let connection = try await SQLiteConnection.open(storage: .file(path: path), logger: logger)
        let backend = SQLiteBackend(connection: connection)
        // WAL lets readers in other processes proceed during a write; NORMAL is durable at
        // every checkpoint and safe against corruption in WAL mode.
        for pragma in ["PRAGMA journal_mode = WAL", "PRAGMA synchronous = NORMAL",
                       "PRAGMA foreign_keys = ON", "PRAGMA busy_timeout = 5000"] {
            try await backend.database.raw(SQLQueryString(pragma)).run()
        }
        return backend
    }

    func withSession<R: Sendable>(_ body: @escaping @Sendable (any SQLDatabase) async throws -> R) async throws -> R {
        let database = self.database
        return try await mutex.withLock { try await body(database) }
    }

    func close() async {
        try? await mutex.withLock { try await self.connection.close() }
    }
}
