import Logging
import NIOPosix
import SQLKit
import SQLiteKit
import Synchronization

/// The embedded default: one file, one writing connection and a few reading ones. SQLite allows
/// one writer at a time anyway; the single writer behind a FIFO lock means no `SQLITE_BUSY`
/// inside the process, and `busy_timeout` covers other processes (`agentgrid users set-role`
/// while the server runs). In WAL mode readers never wait for the writer, so reads go to their
/// own connections and see every committed transaction, in parallel with a write.
final class SQLiteBackend: StoreBackend {
    private struct Session: Sendable {
        let connection: SQLiteConnection
        let database: any SQLDatabase
        let mutex = AsyncMutex()
    }

    private let writer: Session
    private let readers: [Session]
    private let nextReader = Atomic<Int>(0)

    private init(writer: Session, readers: [Session]) {
        self.writer = writer
        self.readers = readers
    }

    static func open(path: String, readers: Int = 2, logger: Logger) async throws -> SQLiteBackend {
        // WAL lets readers proceed during a write; NORMAL is durable at every checkpoint and safe
        // against corruption in WAL mode. The writer sets the journal mode (it persists in the file).
        let writer = try await session(path: path, logger: logger, pragmas: [
            "PRAGMA journal_mode = WAL", "PRAGMA synchronous = NORMAL", "PRAGMA foreign_keys = ON", "PRAGMA busy_timeout = 5000",
        ])
        var readerSessions: [Session] = []
        do {
            for _ in 0..<readers {
                readerSessions.append(try await session(path: path, logger: logger, pragmas: [
                    "PRAGMA foreign_keys = ON", "PRAGMA busy_timeout = 5000", "PRAGMA query_only = ON",
                ]))
            }
        } catch {
            for reader in readerSessions { try? await reader.connection.close() }
            try? await writer.connection.close()
            throw error
        }
        return SQLiteBackend(writer: writer, readers: readerSessions)
    }

    private static func session(path: String, logger: Logger, pragmas: [String]) async throws -> Session {
        let connection = try await SQLiteConnection.open(storage: .file(path: path), logger: logger)
        let session = Session(connection: connection, database: connection.sql())
        do {
            for pragma in pragmas { try await session.database.raw(SQLQueryString(pragma)).run() }
        } catch {
            try? await connection.close()
            throw error
        }
        return session
    }

    func withSession<R: Sendable>(_ body: @escaping @Sendable (any SQLDatabase) async throws -> R) async throws -> R {
        let database = writer.database
        return try await writer.mutex.withLock { try await body(database) }
    }

    func withReadSession<R: Sendable>(_ body: @escaping @Sendable (any SQLDatabase) async throws -> R) async throws -> R {
        guard !readers.isEmpty else { return try await withSession(body) }
        let reader = readers[nextReader.add(1, ordering: .relaxed).oldValue % readers.count]
        let database = reader.database
        return try await reader.mutex.withLock { try await body(database) }
    }

    func close() async {
        for reader in readers { try? await reader.mutex.withLock { try await reader.connection.close() } }
        try? await writer.mutex.withLock { try await self.writer.connection.close() }
    }
}
