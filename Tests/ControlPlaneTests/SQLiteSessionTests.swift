import Foundation
import Logging
import NIOCore
import SQLKit
import Synchronization
import Testing
import VaporCSQLite
@testable import ControlPlane

/// The embedded store's own SQLite layer (statement cache, connection threads, errors): what the
/// store suites rely on without looking at, tried where it could break.
@Suite struct SQLiteSessionTests {
    private static func withBackend<R: Sendable>(_ body: @Sendable (SQLiteBackend, String) async throws -> R) async throws -> R {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("agentgrid-sqlite-\(RandomID.uuid())").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        var logger = Logger(label: "test")
        logger.logLevel = .warning
        let backend = try await SQLiteBackend.open(path: directory + "/test.sqlite", logger: logger)
        do {
            try await backend.withSession { db in
                try await db.raw("CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, data BLOB, score REAL)").run()
            }
            let result = try await body(backend, directory)
            await backend.close()
            return result
        } catch {
            await backend.close()
            throw error
        }
    }

    @Test func aCachedStatementRunsWithEachCallsOwnBinds() async throws {
        try await Self.withBackend { backend, _ in
            try await backend.withSession { db in
                for index in 0..<50 {
                    try await db.raw("INSERT INTO items (id, name, score) VALUES (\(bind: index), \(bind: "item \(index)"), \(bind: Double(index) / 4))").run()
                }
            }
            for index in [0, 17, 49] {
                let row = try await backend.withReadSession { db in
                    try await db.raw("SELECT name, score FROM items WHERE id = \(bind: index)").first()
                }
                #expect(try row?.decode(column: "name", as: String.self) == "item \(index)")
                #expect(try row?.decode(column: "score", as: Double.self) == Double(index) / 4)
            }
            let missing = try await backend.withReadSession { db in try await db.raw("SELECT name FROM items WHERE id = \(bind: 999)").first() }
            #expect(missing == nil)
        }
    }

    @Test func moreDistinctStatementsThanTheCacheHoldsStillRunCorrectly() async throws {
        try await Self.withBackend { backend, _ in
            // IN lists of every length: each is its own statement text, 300 of them.
            try await backend.withSession { db in
                for index in 0..<300 { try await db.raw("INSERT INTO items (id, name) VALUES (\(bind: index), \(bind: "n\(index)"))").run() }
            }
            for length in 1...300 {
                let ids = SQLList((0..<length).map { SQLBind($0) })
                let row = try await backend.withReadSession { db in
                    try await db.raw("SELECT COUNT(*) AS n FROM items WHERE id IN (\(ids))").first()
                }
                #expect(try row?.decode(column: "n", as: Int.self) == length)
            }
        }
    }

    @Test func aFailedStatementLeavesItsCachedTwinUsable() async throws {
        try await Self.withBackend { backend, _ in
            func insert(_ id: Int, _ name: String) async throws {
                try await backend.withSession { db in try await db.raw("INSERT INTO items (id, name) VALUES (\(bind: id), \(bind: name))").run() }
            }
            try await insert(1, "taken")
            do {
                try await insert(2, "taken")
                Issue.record("a duplicate name was accepted")
            } catch {
                #expect(ConstraintViolation.isUnique(error, named: "items.name"), "\(error)")
                #expect("\(error)".contains("UNIQUE constraint failed: items.name"))
            }
            try await insert(3, "free")  // the same cached statement, reset after the failure
            let names = try await backend.withReadSession { db in
                try await db.raw("SELECT name FROM items ORDER BY id").all().map { try $0.decode(column: "name", as: String.self) }
            }
            #expect(names == ["taken", "free"])
        }
    }

    @Test func valuesRoundTripByteForByte() async throws {
        try await Self.withBackend { backend, _ in
            let blob: [UInt8] = [0, 1, 2, 0, 255, 0x80, 0]
            let text = "nul\u{0}inside, ünïcødé, 🙂"
            try await backend.withSession { db in
                try await db.raw("INSERT INTO items (id, name, data) VALUES (1, \(bind: text), \(bind: ByteBuffer(bytes: blob)))").run()
                try await db.raw("INSERT INTO items (id, name, data, score) VALUES (2, 'empty', \(bind: ByteBuffer()), NULL)").run()
            }
            let rows = try await backend.withReadSession { db in try await db.raw("SELECT name, data, score FROM items ORDER BY id").all() }
            #expect(try rows[0].decode(column: "name", as: String.self) == text)
            #expect(try rows[0].decode(column: "data", as: ByteBuffer.self) == ByteBuffer(bytes: blob))
            #expect(try rows[1].decodeNil(column: "score"))
            #expect(try rows[1].decode(column: "score", as: Double?.self) == nil)
            #expect(throws: (any Error).self) { try rows[0].decode(column: "no_such_column", as: String.self) }
        }
    }

    @Test func twoStatementsInOneStringAreRefused() async throws {
        try await Self.withBackend { backend, _ in
            await #expect(throws: SQLiteFailure.self) {
                try await backend.withSession { db in try await db.raw("INSERT INTO items (id, name) VALUES (1, 'a'); DELETE FROM items").run() }
            }
            let count = try await backend.withReadSession { db in try await db.raw("SELECT COUNT(*) AS n FROM items").first()?.decode(column: "n", as: Int.self) }
            #expect(count == 0)
        }
    }

    @Test func aStatementCachedBeforeASchemaChangeSeesTheNewSchema() async throws {
        try await Self.withBackend { backend, _ in
            try await backend.withSession { db in try await db.raw("INSERT INTO items (id, name) VALUES (1, 'a')").run() }
            let before = try await backend.withReadSession { db in try await db.raw("SELECT * FROM items").first()?.allColumns }
            try await backend.withSession { db in try await db.raw("ALTER TABLE items ADD COLUMN extra TEXT DEFAULT 'x'").run() }
            // Both readers hold the old prepared statement (the reads alternate between them).
            for _ in 0..<2 {
                let after = try await backend.withReadSession { db in try await db.raw("SELECT * FROM items").first() }
                #expect(after?.allColumns == (before ?? []) + ["extra"])
                #expect(try after?.decode(column: "extra", as: String.self) == "x")
            }
        }
    }

    @Test func readersAreReadOnlyAndSeeEveryCommit() async throws {
        try await Self.withBackend { backend, _ in
            await #expect(throws: SQLiteFailure.self) {
                try await backend.withReadSession { db in try await db.raw("INSERT INTO items (id, name) VALUES (1, 'a')").run() }
            }
            for index in 0..<20 {
                try await backend.withSession { db in try await db.raw("INSERT INTO items (id, name) VALUES (\(bind: index), \(bind: "n\(index)"))").run() }
                let count = try await backend.withReadSession { db in try await db.raw("SELECT COUNT(*) AS n FROM items").first()?.decode(column: "n", as: Int.self) }
                #expect(count == index + 1)
            }
        }
    }

    /// The writer's lock keeps each caller's statements together: 40 concurrent read-modify-write
    /// sessions on one counter lose no update.
    @Test func concurrentSessionsOnTheWriterDoNotInterleave() async throws {
        try await Self.withBackend { backend, _ in
            try await backend.withSession { db in try await db.raw("INSERT INTO items (id, name, score) VALUES (1, 'counter', 0)").run() }
            try await withThrowingTaskGroup(of: Void.self) { group in
                for _ in 0..<40 {
                    group.addTask {
                        try await backend.withSession { db in
                            let score = try await db.raw("SELECT score FROM items WHERE id = 1").first()!.decode(column: "score", as: Double.self)
                            await Task.yield()
                            try await db.raw("UPDATE items SET score = \(bind: score + 1) WHERE id = 1").run()
                        }
                    }
                }
                try await group.waitForAll()
            }
            let score = try await backend.withReadSession { db in try await db.raw("SELECT score FROM items WHERE id = 1").first()?.decode(column: "score", as: Double.self) }
            #expect(score == 40)
        }
    }

    /// Another process holding the write lock: the writer waits (busy_timeout) on its own thread
    /// while reads go on, then writes once the lock is released.
    @Test func aLockHeldElsewhereBlocksOnlyTheWriter() async throws {
        try await Self.withBackend { backend, directory in
            let other = try SQLiteHandle(path: directory + "/test.sqlite")
            defer { other.close() }
            _ = try other.run("BEGIN IMMEDIATE", [])
            let write = Task {
                try await backend.withSession { db in try await db.raw("INSERT INTO items (id, name) VALUES (1, 'after the lock')").run() }
            }
            try await Task.sleep(for: .milliseconds(200))
            let count = try await backend.withReadSession { db in try await db.raw("SELECT COUNT(*) AS n FROM items").first()?.decode(column: "n", as: Int.self) }
            #expect(count == 0)
            _ = try other.run("COMMIT", [])
            try await write.value
            let after = try await backend.withReadSession { db in try await db.raw("SELECT name FROM items").first()?.decode(column: "name", as: String.self) }
            #expect(after == "after the lock")
        }
    }

    /// Reads run on the caller's thread, whose connection never waits for a lock; a read that
    /// meets one (SQLITE_BUSY: another process recovering or checkpointing the file) runs again on
    /// the reader's own thread, which may wait. The busy answer is injected on the first try.
    @Test func aReadThatMeetsALockRunsAgainOnTheReadersThread() async throws {
        try await Self.withBackend { backend, _ in
            try await backend.withSession { db in try await db.raw("INSERT INTO items (id, name) VALUES (1, 'one')").run() }
            let inline = try await backend.withReadSession { db in
                (backend.isOnAReaderThread, try await db.raw("SELECT name FROM items WHERE id = 1").first()?.decode(column: "name", as: String.self))
            }
            #expect(inline.0 == false)
            #expect(inline.1 == "one")

            let tries = Mutex<[Bool]>([])
            let name = try await backend.withReadSession { db in
                let first = tries.withLock { $0.append(backend.isOnAReaderThread); return $0.count == 1 }
                if first { throw SQLiteFailure(code: SQLITE_BUSY, message: "database is locked") }
                return try await db.raw("SELECT name FROM items WHERE id = 1").first()?.decode(column: "name", as: String.self)
            }
            #expect(name == "one")
            let threads = tries.withLock { $0 }
            // First on the caller's thread, then on a reader's.
            #expect(threads == [false, true])
            // Any other failure is the caller's, not tried again.
            let attempts = Mutex(0)
            await #expect(throws: SQLiteFailure.self) {
                try await backend.withReadSession { db in
                    attempts.withLock { $0 += 1 }
                    try await db.raw("SELECT nothing FROM nowhere").run()
                }
            }
            #expect(attempts.withLock { $0 } == 1)
        }
    }

    @Test func aClosedBackendRefusesWork() async throws {
        var logger = Logger(label: "test")
        logger.logLevel = .warning
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("agentgrid-sqlite-\(RandomID.uuid()).sqlite").path
        defer { for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) } }
        let backend = try await SQLiteBackend.open(path: path, logger: logger)
        await backend.close()
        await #expect(throws: SQLiteFailure.self) {
            try await backend.withSession { db in try await db.raw("SELECT 1").run() }
        }
    }
}
