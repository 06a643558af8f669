import Logging
import NIOCore
import NIOPosix
import SQLKit
import SQLiteKit
import SQLiteNIO
import Synchronization
import VaporCSQLite

/// One connection, its thread and its lock: `withLock` gives the caller the connection alone
/// (a statement slipped between another caller's BEGIN and COMMIT would join that transaction)
/// and runs the body on the connection's thread.
///
/// A reading session may run its body on the caller's own thread instead (`readsInline`): a
/// read takes tens of microseconds, and the two thread hops around it cost more than that
/// under load. Such a session's connection never waits for a lock (busy timeout 0); a read
/// that finds one held (another process checkpointing or recovering the file) is run again on
/// the connection's thread, which may wait: a caller's thread does not sit in a busy wait.
final class SQLiteSession: Sendable {
    let database: SQLiteSessionDatabase
    private let inlineDatabase: SQLiteSessionDatabase?
    private let lockWaitMilliseconds: Int32
    private let handle: SQLiteHandle
    private let thread: SQLiteThread
    private let mutex = AsyncMutex()
    private let closed = Atomic<Bool>(false)

    /// Opens the file on the session's own thread and applies `pragmas`.
    static func open(path: String, pragmas: [String], name: String, lockWaitMilliseconds: Int32, readsInline: Bool = false,
                     logger: Logger) async throws -> SQLiteSession {
        let thread = SQLiteThread(name: name)
        do {
            let handle = try await withTaskExecutorPreference(thread) { try SQLiteHandle(path: path) }
            handle.setBusyTimeout(milliseconds: readsInline ? 0 : lockWaitMilliseconds)
            let session = SQLiteSession(handle: handle, thread: thread, readsInline: readsInline,
                                        lockWaitMilliseconds: lockWaitMilliseconds, logger: logger)
            do {
                for pragma in pragmas { try await session.withLock { try await $0.raw(SQLQueryString(pragma)).run() } }
            } catch {
                await session.close()
                throw error
            }
            return session
        } catch {
            thread.stop()
            throw error
        }
    }

    private init(handle: SQLiteHandle, thread: SQLiteThread, readsInline: Bool, lockWaitMilliseconds: Int32, logger: Logger) {
        self.handle = handle
        self.thread = thread
        self.lockWaitMilliseconds = lockWaitMilliseconds
        database = SQLiteSessionDatabase(handle: handle, thread: thread, onCallersThread: false, logger: logger)
        inlineDatabase = readsInline ? SQLiteSessionDatabase(handle: handle, thread: thread, onCallersThread: true, logger: logger) : nil
    }

    /// The connection's thread, for work that will use the connection next.
    var executor: any TaskExecutor { thread }

    /// True when called on the connection's own thread.
    var isOnItsThread: Bool { thread.isCurrent }

    func withLock<R: Sendable>(_ body: @escaping @Sendable (any SQLDatabase) async throws -> R) async throws -> R {
        let database = self.database, inlineDatabase = self.inlineDatabase, thread = self.thread, handle = self.handle
        let lockWait = lockWaitMilliseconds
        return try await mutex.withLock {
            // Checked under the lock: close() takes it too, and a stopped thread runs nothing.
            guard !closed.load(ordering: .acquiring) else { throw SQLiteFailure(code: SQLITE_MISUSE, message: "the store is closed") }
            if let inlineDatabase {
                do {
                    return try await body(inlineDatabase)
                } catch let failure as SQLiteFailure where failure.isBusy {
                    // Only reads run inline, so running the body again repeats no effect.
                }
                handle.setBusyTimeout(milliseconds: lockWait)
                defer { handle.setBusyTimeout(milliseconds: 0) }
                return try await withTaskExecutorPreference(thread) { try await body(database) }
            }
            return try await withTaskExecutorPreference(thread) { try await body(database) }
        }
    }

    func close() async {
        let handle = self.handle
        try? await mutex.withLock {
            guard !closed.exchange(true, ordering: .acquiringAndReleasing) else { return }
            await withTaskExecutorPreference(self.thread) { handle.close() }
            thread.stop()
        }
    }
}

/// SQLKit's view of a session: statements serialized in SQLite's dialect and run on the
/// connection's thread, synchronously when the caller is already there (inside `withLock`), or
/// on the caller's thread for an inline read.
struct SQLiteSessionDatabase: SQLDatabase {
    fileprivate let handle: SQLiteHandle
    fileprivate let thread: SQLiteThread
    fileprivate let onCallersThread: Bool
    let logger: Logger
    private let encoder = SQLiteDataEncoder()
    private let decoder = SQLiteDataDecoder()

    fileprivate init(handle: SQLiteHandle, thread: SQLiteThread, onCallersThread: Bool, logger: Logger) {
        self.handle = handle
        self.thread = thread
        self.onCallersThread = onCallersThread
        self.logger = logger
    }

    /// Only for SQLKit's future-based entry point; nothing here runs on it.
    var eventLoop: any EventLoop { MultiThreadedEventLoopGroup.singleton.any() }
    var dialect: any SQLDialect { SQLiteDialect() }

    func execute(sql query: any SQLExpression, _ onRow: @escaping @Sendable (any SQLRow) -> ()) async throws {
        let (sql, rawBinds) = serialize(query)
        let binds = try rawBinds.map { try encoder.encode($0) }
        let handle = self.handle, decoder = self.decoder
        @Sendable func run() throws {
            let result = try handle.run(sql, binds)
            for values in result.rows { onRow(SQLiteValuesRow(columns: result.columns, values: values, decoder: decoder)) }
        }
        if onCallersThread || thread.isCurrent {
            try run()
        } else {
            try await withTaskExecutorPreference(thread) { try run() }
        }
    }

    func execute(sql query: any SQLExpression, _ onRow: @escaping @Sendable (any SQLRow) -> ()) -> EventLoopFuture<Void> {
        let promise = eventLoop.makePromise(of: Void.self)
        promise.completeWithTask { try await self.execute(sql: query, onRow) }
        return promise.futureResult
    }
}

/// A result row: the statement's column names beside this row's values.
struct SQLiteValuesRow: SQLRow {
    let columns: [String]
    let values: [SQLiteData]
    let decoder: SQLiteDataDecoder

    var allColumns: [String] { columns }

    func contains(column: String) -> Bool { columns.contains(column) }

    func decodeNil(column: String) throws -> Bool {
        if case .null = try value(column) { return true }
        return false
    }

    func decode<D: Decodable>(column: String, as: D.Type) throws -> D {
        try decoder.decode(D.self, from: try value(column))
    }

    private func value(_ column: String) throws -> SQLiteData {
        guard let index = columns.firstIndex(of: column) else {
            throw DecodingError.keyNotFound(SQLiteColumnKey(stringValue: column), .init(codingPath: [], debugDescription: "No column named \(column)"))
        }
        return values[index]
    }
}

private struct SQLiteColumnKey: CodingKey {
    var stringValue: String
    var intValue: Int? { nil }
    init(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { nil }
}
