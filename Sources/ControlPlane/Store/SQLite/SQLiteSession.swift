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
final class SQLiteSession: Sendable {
    let database: SQLiteSessionDatabase
    private let handle: SQLiteHandle
    private let thread: SQLiteThread
    private let mutex = AsyncMutex()
    private let closed = Atomic<Bool>(false)

    /// Opens the file on the session's own thread and applies `pragmas`.
    static func open(path: String, pragmas: [String], name: String, logger: Logger) async throws -> SQLiteSession {
        let thread = SQLiteThread(name: name)
        do {
            let handle = try await withTaskExecutorPreference(thread) { try SQLiteHandle(path: path) }
            let session = SQLiteSession(handle: handle, thread: thread, logger: logger)
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

    private init(handle: SQLiteHandle, thread: SQLiteThread, logger: Logger) {
        self.handle = handle
        self.thread = thread
        database = SQLiteSessionDatabase(handle: handle, thread: thread, logger: logger)
    }

    /// The connection's thread, for work that will use the connection next.
    var executor: any TaskExecutor { thread }

    func withLock<R: Sendable>(_ body: @escaping @Sendable (any SQLDatabase) async throws -> R) async throws -> R {
        let database = self.database, thread = self.thread
        return try await mutex.withLock {
            // Checked under the lock: close() takes it too, and a stopped thread runs nothing.
            guard !closed.load(ordering: .acquiring) else { throw SQLiteFailure(code: SQLITE_MISUSE, message: "the store is closed") }
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
/// connection's thread, synchronously when the caller is already there (inside `withLock`).
struct SQLiteSessionDatabase: SQLDatabase {
    fileprivate let handle: SQLiteHandle
    fileprivate let thread: SQLiteThread
    let logger: Logger
    private let encoder = SQLiteDataEncoder()
    private let decoder = SQLiteDataDecoder()

    fileprivate init(handle: SQLiteHandle, thread: SQLiteThread, logger: Logger) {
        self.handle = handle
        self.thread = thread
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
        if thread.isCurrent {
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
