import Logging
import SQLKit

/// One versioned step of the schema. Versions only ever grow; a step that shipped is never
/// edited, a change is a new step.
struct Migration: Sendable {
    let version: Int
    let name: String
    let statements: [String]
}

/// Applies the steps a database has not seen yet, each in its own transaction together with
/// its `schema_migrations` row, so a failed step leaves the previous version intact.
public enum Migrator {
    static let all: [Migration] = [SchemaV1.migration, SchemaV2.migration, SchemaV3.migration, SchemaV4.migration]

    public static var latestVersion: Int { all.map(\.version).max() ?? 0 }

    /// Returns the versions applied by this call.
    @discardableResult
    public static func migrate(_ store: Store, logger: Logger) async throws -> [Int] {
        try await store.transaction { db in
            try await db.raw("""
                CREATE TABLE IF NOT EXISTS schema_migrations (
                    version BIGINT PRIMARY KEY,
                    name TEXT NOT NULL,
                    applied_at BIGINT NOT NULL)
                """).run()
        }
        var applied: [Int] = []
        for migration in all.sorted(by: { $0.version < $1.version }) {
            let engine = store.engine
            let didApply = try await store.transaction { db -> Bool in
                // Several control-plane nodes may start at once on one PostgreSQL: the advisory
                // lock makes the second wait for the first and then find the step applied.
                if engine == .postgres {
                    try await db.raw("SELECT pg_advisory_xact_lock(7102026)").run()
                }
                let rows = try await db.raw("SELECT version FROM schema_migrations WHERE version = \(bind: migration.version)").all()
                if !rows.isEmpty { return false }
                for statement in migration.statements {
                    do {
                        try await db.raw(SQLQueryString(statement)).run()
                    } catch {
                        throw StoreError.migrationFailed(version: migration.version, name: migration.name, underlying: String(reflecting: error))
                    }
                }
                try await db.raw("""
                    INSERT INTO schema_migrations (version, name, applied_at)
                    VALUES (\(bind: migration.version), \(bind: migration.name), \(bind: Timestamp.now()))
                    """).run()
                return true
            }
            if didApply {
                logger.info("applied migration", metadata: ["version": "\(migration.version)", "name": "\(migration.name)"])
                applied.append(migration.version)
            }
        }
        let current = try await currentVersion(store)
        if current > latestVersion { throw StoreError.newerSchema(found: current, known: latestVersion) }
        return applied
    }

    public static func currentVersion(_ store: Store) async throws -> Int {
        try await store.read { db in
            let row = try await db.raw("SELECT MAX(version) AS v FROM schema_migrations").first()
            return try row?.decodeNil(column: "v") == false ? Int(try row!.decode(column: "v", as: Int64.self)) : 0
        }
    }
}
