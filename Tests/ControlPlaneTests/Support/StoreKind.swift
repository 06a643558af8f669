import Foundation
import Logging
import PostgresKit
import Testing
@testable import ControlPlane

/// The two engines every store and endpoint test runs on. PostgreSQL is the real server that
/// `make test` starts (scripts/with-postgres.sh exports AGENTGRID_TEST_DATABASE_URL); each test
/// gets a database of its own, created from that server and dropped afterwards.
enum StoreKind: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case sqlite, postgres

    var testDescription: String { rawValue }

    static let postgresURLVariable = "AGENTGRID_TEST_DATABASE_URL"

    /// Runs `body` with a fresh, migrated store of this kind.
    func withStore<R: Sendable>(_ body: @Sendable (Store, StoreLocation) async throws -> R) async throws -> R {
        var logger = Logger(label: "test")
        logger.logLevel = .warning
        switch self {
        case .sqlite:
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("agentgrid-test-\(UUID().uuidString)").path
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(atPath: directory) }
            let location = StoreLocation.sqlite(path: directory + "/agentgrid.sqlite")
            let store = try await Store.open(location, logger: logger)
            do {
                try await Migrator.migrate(store, logger: logger)
                let result = try await body(store, location)
                await store.close()
                return result
            } catch {
                await store.close()
                throw error
            }
        case .postgres:
            return try await Self.postgresGate.withTurn { try await withPostgresStore(body) }
        }
    }

    /// Each turn holds up to 6 server connections (the admin pool and the test's own).
    private static let postgresGate = ConcurrencyGate(limit: 16)

    private func withPostgresStore<R: Sendable>(_ body: @Sendable (Store, StoreLocation) async throws -> R) async throws -> R {
        var logger = Logger(label: "test")
        logger.logLevel = .warning
        do {
            guard let serverURL = ProcessInfo.processInfo.environment[Self.postgresURLVariable] else {
                Issue.record("\(Self.postgresURLVariable) is not set: run the tests with `make test` (it starts PostgreSQL)")
                throw CancellationError()
            }
            let name = "agentgrid_t_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "").prefix(16)
            let admin = try await Store.open(.postgres(url: serverURL, connections: 1), logger: logger)
            try await admin.read { db in try await db.raw("CREATE DATABASE \(ident: String(name))").run() }
            let url = Self.replacingDatabase(in: serverURL, with: String(name))
            let location = StoreLocation.postgres(url: url, connections: 4)
            do {
                let store = try await Store.open(location, logger: logger)
                do {
                    try await Migrator.migrate(store, logger: logger)
                    let result = try await body(store, location)
                    await store.close()
                    try await Self.drop(String(name), on: admin)
                    await admin.close()
                    return result
                } catch {
                    await store.close()
                    throw error
                }
            } catch {
                try? await Self.drop(String(name), on: admin)
                await admin.close()
                throw error
            }
        }
    }

    private static func drop(_ name: String, on admin: Store) async throws {
        try await admin.read { db in try await db.raw("DROP DATABASE IF EXISTS \(ident: name) WITH (FORCE)").run() }
    }

    static func replacingDatabase(in url: String, with name: String) -> String {
        var components = URLComponents(string: url)!
        components.path = "/" + name
        return components.string!
    }
}
