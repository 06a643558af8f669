import NIOCore
import SQLiteNIO
// The SQLite that SQLiteNIO vendors (its symbols prefixed `sqlite_nio_`): one engine in the
// process, the one SQLiteKit used before; Debian's libsqlite3 beside it clashes in Clang's
// module map (same struct names, other fields).
import VaporCSQLite

/// An SQLite error with the engine's code and message (the message names a violated
/// constraint: "UNIQUE constraint failed: users.email").
struct SQLiteFailure: Error, CustomStringConvertible {
    let code: Int32
    let message: String
    var description: String { "SQLite error \(code): \(message)" }

    /// A lock held by another connection stopped the statement (the busy timeout, if any, ran out).
    var isBusy: Bool { code & 0xFF == SQLITE_BUSY }
}

/// One `sqlite3` handle with its prepared statements kept for reuse (parsing and planning a
/// statement costs more than running most of ours). Not thread-safe: every call comes from the
/// connection's own `SQLiteThread`, one caller at a time (the session's lock).
final class SQLiteHandle: @unchecked Sendable {
    /// A statement's result: column names, then one array of values per row.
    struct Result {
        var columns: [String] = []
        var rows: [[SQLiteData]] = []
    }

    private var handle: OpaquePointer?
    private var statements: [String: OpaquePointer] = [:]
    /// Beyond this many distinct statements (IN lists of every length), the cache starts over.
    private let statementCacheLimit = 128

    init(path: String) throws {
        // NOMUTEX: one thread uses the handle, so SQLite's own per-call locking buys nothing.
        let flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX
        var handle: OpaquePointer?
        let code = sqlite_nio_sqlite3_open_v2(path, &handle, flags, nil)
        guard code == SQLITE_OK, let handle else {
            let message = handle.map { String(cString: sqlite_nio_sqlite3_errmsg($0)) } ?? "out of memory"
            sqlite_nio_sqlite3_close_v2(handle)
            throw SQLiteFailure(code: code, message: "cannot open \(path): \(message)")
        }
        self.handle = handle
    }

    /// Runs one statement to completion.
    func run(_ sql: String, _ binds: [SQLiteData]) throws -> Result {
        guard let handle else { throw SQLiteFailure(code: SQLITE_MISUSE, message: "the connection is closed") }
        let statement = try prepared(sql, handle)
        defer {
            sqlite_nio_sqlite3_reset(statement)
            sqlite_nio_sqlite3_clear_bindings(statement)
        }
        for (index, value) in binds.enumerated() {
            try check(bind(value, at: Int32(index + 1), to: statement), handle)
        }
        var result = Result()
        var count: Int32 = 0
        var first = true
        while true {
            let step = sqlite_nio_sqlite3_step(statement)
            if first {
                // Read after the first step: a statement cached before a schema change is
                // prepared again inside it, and may have other columns now.
                first = false
                count = sqlite_nio_sqlite3_column_count(statement)
                result.columns = (0..<count).map { String(cString: sqlite_nio_sqlite3_column_name(statement, $0)) }
            }
            if step == SQLITE_DONE { break }
            guard step == SQLITE_ROW else { throw failure(step, handle) }
            result.rows.append((0..<count).map { column(statement, $0) })
        }
        return result
    }

    /// How long a statement waits for another connection's lock before failing with SQLITE_BUSY.
    func setBusyTimeout(milliseconds: Int32) {
        sqlite_nio_sqlite3_busy_timeout(handle, milliseconds)
    }

    func close() {
        for statement in statements.values { sqlite_nio_sqlite3_finalize(statement) }
        statements.removeAll()
        sqlite_nio_sqlite3_close_v2(handle)
        handle = nil
    }

    private func prepared(_ sql: String, _ handle: OpaquePointer) throws -> OpaquePointer {
        if let statement = statements[sql] { return statement }
        if statements.count >= statementCacheLimit {
            for statement in statements.values { sqlite_nio_sqlite3_finalize(statement) }
            statements.removeAll()
        }
        var statement: OpaquePointer?
        var tail: UnsafePointer<CChar>?
        let code = sql.withCString { sqlite_nio_sqlite3_prepare_v3(handle, $0, -1, UInt32(SQLITE_PREPARE_PERSISTENT), &statement, &tail) }
        guard code == SQLITE_OK, let statement else { throw failure(code, handle) }
        if let tail, tail.pointee != 0, !String(cString: tail).allSatisfy(\.isWhitespace) {
            sqlite_nio_sqlite3_finalize(statement)
            throw SQLiteFailure(code: SQLITE_MISUSE, message: "more than one statement in: \(sql)")
        }
        statements[sql] = statement
        return statement
    }

    private func bind(_ value: SQLiteData, at index: Int32, to statement: OpaquePointer) -> Int32 {
        switch value {
        case .integer(let number): return sqlite_nio_sqlite3_bind_int64(statement, index, Int64(number))
        case .float(let number): return sqlite_nio_sqlite3_bind_double(statement, index, number)
        case .text(let text): return sqlite_nio_sqlite3_bind_text64(statement, index, text, sqlite3_uint64(text.utf8.count), Self.transient, UInt8(SQLITE_UTF8))
        case .blob(let buffer):
            return buffer.withUnsafeReadableBytes { sqlite_nio_sqlite3_bind_blob64(statement, index, $0.baseAddress, sqlite3_uint64($0.count), Self.transient) }
        case .null: return sqlite_nio_sqlite3_bind_null(statement, index)
        }
    }

    private func column(_ statement: OpaquePointer, _ index: Int32) -> SQLiteData {
        switch sqlite_nio_sqlite3_column_type(statement, index) {
        case SQLITE_INTEGER: return .integer(Int(sqlite_nio_sqlite3_column_int64(statement, index)))
        case SQLITE_FLOAT: return .float(sqlite_nio_sqlite3_column_double(statement, index))
        case SQLITE_TEXT:
            let length = Int(sqlite_nio_sqlite3_column_bytes(statement, index))
            guard let bytes = sqlite_nio_sqlite3_column_text(statement, index) else { return .text("") }
            return .text(String(decoding: UnsafeBufferPointer(start: bytes, count: length), as: UTF8.self))
        case SQLITE_BLOB:
            let length = Int(sqlite_nio_sqlite3_column_bytes(statement, index))
            guard let bytes = sqlite_nio_sqlite3_column_blob(statement, index) else { return .blob(ByteBuffer()) }
            return .blob(ByteBuffer(bytes: UnsafeRawBufferPointer(start: bytes, count: length)))
        default: return .null
        }
    }

    private func check(_ code: Int32, _ handle: OpaquePointer) throws {
        guard code == SQLITE_OK else { throw failure(code, handle) }
    }

    private func failure(_ code: Int32, _ handle: OpaquePointer) -> SQLiteFailure {
        SQLiteFailure(code: code, message: String(cString: sqlite_nio_sqlite3_errmsg(handle)))
    }

    /// SQLite copies bound text and blobs before the call returns.
    private static let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)

    deinit {
        if handle != nil { close() }
    }
}
