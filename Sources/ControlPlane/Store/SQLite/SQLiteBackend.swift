import Logging
import SQLKit
import Synchronization

/// The embedded default: one file, one writing connection and a few reading ones, each on a
/// thread of its own. SQLite allows one writer at a time anyway; the single writer behind a
/// FIFO lock means no `SQLITE_BUSY` inside the process, and `busy_timeout` covers other
/// processes (`agentgrid users set-role` while the server runs). In WAL mode readers never wait
/// for the writer, so reads go to their own connections and see every committed transaction,
/// in parallel with a write. Reads run on the caller's thread (see `SQLiteSession`).
final class SQLiteBackend: StoreBackend {
    private let writer: SQLiteSession
    private let readers: [SQLiteSession]
    private let nextReader = Atomic<Int>(0)

    private init(writer: SQLiteSession, readers: [SQLiteSession]) {
        self.writer = writer
        self.readers = readers
    }

    /// How long a statement waits for another process's lock (`agentgrid users set-role` while the
    /// server runs) before it fails.
    static let lockWaitMilliseconds: Int32 = 5_000

    static func open(path: String, readers: Int = 2, logger: Logger) async throws -> SQLiteBackend {
        // WAL lets readers proceed during a write; NORMAL is durable at every checkpoint and safe
        // against corruption in WAL mode. The writer sets the journal mode (it persists in the file).
        let writer = try await SQLiteSession.open(path: path, pragmas: [
            "PRAGMA journal_mode = WAL", "PRAGMA synchronous = NORMAL", "PRAGMA foreign_keys = ON",
        ], name: "sqlite-writer", lockWaitMilliseconds: lockWaitMilliseconds, logger: logger)
        var readerSessions: [SQLiteSession] = []
        do {
            for index in 0..<readers {
                readerSessions.append(try await SQLiteSession.open(path: path, pragmas: [
                    "PRAGMA foreign_keys = ON", "PRAGMA query_only = ON",
                ], name: "sqlite-reader-\(index)", lockWaitMilliseconds: lockWaitMilliseconds, readsInline: true, logger: logger))
            }
        } catch {
            for reader in readerSessions { await reader.close() }
            await writer.close()
            throw error
        }
        return SQLiteBackend(writer: writer, readers: readerSessions)
    }

    func withSession<R: Sendable>(_ body: @escaping @Sendable (any SQLDatabase) async throws -> R) async throws -> R {
        try await writer.withLock(body)
    }

    func withReadSession<R: Sendable>(_ body: @escaping @Sendable (any SQLDatabase) async throws -> R) async throws -> R {
        guard !readers.isEmpty else { return try await withSession(body) }
        return try await readers[nextReader.add(1, ordering: .relaxed).oldValue % readers.count].withLock(body)
    }

    var writerExecutor: (any TaskExecutor)? { writer.executor }

    /// True when called on one of the readers' own threads.
    var isOnAReaderThread: Bool { readers.contains { $0.isOnItsThread } }

    func close() async {
        for reader in readers { await reader.close() }
        await writer.close()
    }
}
