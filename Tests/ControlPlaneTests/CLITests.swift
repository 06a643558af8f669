import Foundation
import Logging
import Testing
@testable import ControlPlane

/// The `agentgrid` binary as an operator runs it: `users set-role`, and `serve`'s key handling.
/// Needs `.build/debug/agentgrid` (`swift build --build-tests` builds it).
@Suite struct CLITests {
    private static let packageRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let binary = packageRoot.appendingPathComponent(".build/debug/agentgrid").path

    struct Outcome {
        var status: Int32
        var signaled: Bool
        var stdout: String
        var stderr: String
        var seconds: Double
    }

    /// The environment without any AgentGrid configuration, so only the flags count.
    static func cleanEnvironment(_ extra: [String: String] = [:]) -> [String: String] {
        var environment = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("AGENTGRID_") && $0.key != "DATABASE_URL" }
        environment.merge(extra) { $1 }
        return environment
    }

    static func temporaryDirectory() throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("agentgrid-cli-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    static func read(_ path: String) -> String {
        FileManager.default.contents(atPath: path).map { String(decoding: $0, as: UTF8.self) } ?? ""
    }

    /// Starts `agentgrid ARGS` with stdout and stderr going to files in `scratch`.
    static func start(_ arguments: [String], scratch: String, environment: [String: String]) throws -> Process {
        try #require(FileManager.default.isExecutableFile(atPath: binary), "\(binary) is missing: run `swift build --build-tests`")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = arguments
        process.environment = environment
        process.currentDirectoryURL = URL(fileURLWithPath: scratch)
        _ = FileManager.default.createFile(atPath: scratch + "/stdout", contents: nil)
        _ = FileManager.default.createFile(atPath: scratch + "/stderr", contents: nil)
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: scratch + "/stdout"))
        process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: scratch + "/stderr"))
        try process.run()
        return process
    }

    /// Waits for `process` without blocking a thread; kills it and fails after `timeout`.
    static func finish(_ process: Process, scratch: String, started: ContinuousClock.Instant,
                               timeout: Duration = .seconds(60), sourceLocation: SourceLocation = #_sourceLocation) async throws -> Outcome {
        while process.isRunning, ContinuousClock.now - started < timeout {
            try await Task.sleep(for: .milliseconds(20))
        }
        if process.isRunning {
            Issue.record("agentgrid \(process.arguments ?? []) did not exit within \(timeout)", sourceLocation: sourceLocation)
            kill(process.processIdentifier, SIGKILL)
            while process.isRunning { try await Task.sleep(for: .milliseconds(20)) }
        }
        let elapsed = ContinuousClock.now - started
        return Outcome(status: process.terminationStatus, signaled: process.terminationReason == .uncaughtSignal,
                       stdout: read(scratch + "/stdout"), stderr: read(scratch + "/stderr"),
                       seconds: Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18)
    }

    static func run(_ arguments: [String], environment: [String: String] = cleanEnvironment(),
                            sourceLocation: SourceLocation = #_sourceLocation) async throws -> Outcome {
        let scratch = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        let started = ContinuousClock.now
        let process = try start(arguments, scratch: scratch, environment: environment)
        return try await finish(process, scratch: scratch, started: started, sourceLocation: sourceLocation)
    }

    // MARK: users set-role

    private static func withStore<R: Sendable>(_ dataDirectory: String, _ body: @Sendable (Store) async throws -> R) async throws -> R {
        var logger = Logger(label: "cli-test")
        logger.logLevel = .warning
        let store = try await Store.open(.sqlite(path: dataDirectory + "/agentgrid.sqlite"), logger: logger)
        do {
            let result = try await body(store)
            await store.close()
            return result
        } catch {
            await store.close()
            throw error
        }
    }

    /// A migrated data directory (by `agentgrid migrate`) holding one user, carol@example.com.
    private static func dataDirectoryWithCarol() async throws -> (directory: String, userID: String) {
        let directory = try temporaryDirectory()
        let migrate = try await run(["migrate", "--data-dir", directory])
        #expect(migrate.status == 0, "migrate: \(migrate.stderr)")
        let id = UUID().uuidString.lowercased()
        try await withStore(directory) { store in
            let now = Timestamp.now()
            let user = User(id: id, email: "carol@example.com", username: "carol", fullName: "Carol", passwordHash: "$2b$04$x",
                            avatarURL: nil, bio: nil, role: .user, creditsMilli: 0, isActive: true, isVerified: false,
                            createdAt: now, updatedAt: now)
            try await store.transaction { db in try await UserStore.insert(user, in: db) }
        }
        return (directory, id)
    }

    private static func role(of id: String, in directory: String) async throws -> Role? {
        try await withStore(directory) { store in try await store.read { db in try await UserStore.find(id: id, in: db)?.role } }
    }

    // MARK: ledger verify

    @Test func ledgerVerifyPassesBalancedBooksAndNamesEveryDiscrepancy() async throws {
        let (directory, carol) = try await Self.dataDirectoryWithCarol()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        _ = try await Self.withStore(directory) { store in
            try await store.transaction { db in
                try await Ledger.post(userID: carol, amountMilli: 12_500, type: .purchase, description: "test", referenceID: "p1", in: db)
            }
        }
        let clean = try await Self.run(["ledger", "verify", "--data-dir", directory])
        #expect(clean.status == 0, "\(clean.stdout) \(clean.stderr)")
        #expect(clean.stdout.contains("0 discrepancies"))

        // A balance changed behind the ledger's back.
        try await Self.withStore(directory) { store in
            try await store.transaction { db in try await db.raw("UPDATE users SET credits_milli = 99000 WHERE id = \(bind: carol)").run() }
        }
        let tampered = try await Self.run(["ledger", "verify", "--data-dir", directory])
        #expect(tampered.status == 1)
        #expect(tampered.stdout.contains("user \(carol): balance 99 but its ledger rows sum to 12.5"), "\(tampered.stdout)")
        #expect(tampered.stdout.contains("1 discrepancy"))
    }

    @Test func ledgerVerifyRefusesAnUnmigratedStore() async throws {
        let directory = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let outcome = try await Self.run(["ledger", "verify", "--data-dir", directory])
        #expect(outcome.status != 0)
        #expect(!outcome.stderr.isEmpty)
    }

    @Test func setRoleMakesAnAdmin() async throws {
        let (directory, id) = try await Self.dataDirectoryWithCarol()
        defer { try? FileManager.default.removeItem(atPath: directory) }

        let promoted = try await Self.run(["users", "set-role", "Carol@Example.com", "admin", "--data-dir", directory])
        #expect(promoted.status == 0, "\(promoted.stderr)")
        #expect(promoted.stdout.contains("carol@example.com is now admin"))
        #expect(try await Self.role(of: id, in: directory) == .admin)

        let back = try await Self.run(["users", "set-role", "carol@example.com", "creator", "--data-dir", directory])
        #expect(back.status == 0)
        #expect(try await Self.role(of: id, in: directory) == .creator)
    }

    @Test func setRoleForAnUnknownEmailFails() async throws {
        let (directory, id) = try await Self.dataDirectoryWithCarol()
        defer { try? FileManager.default.removeItem(atPath: directory) }

        let outcome = try await Self.run(["users", "set-role", "nobody@example.com", "admin", "--data-dir", directory])
        #expect(outcome.status != 0 && !outcome.signaled)
        #expect(outcome.stderr.contains("nobody@example.com"), "\(outcome.stderr)")
        #expect(try await Self.role(of: id, in: directory) == .user)
    }

    @Test func setRoleRejectsAnUnknownRole() async throws {
        let (directory, id) = try await Self.dataDirectoryWithCarol()
        defer { try? FileManager.default.removeItem(atPath: directory) }

        for role in ["superuser", "Admin", ""] {
            let outcome = try await Self.run(["users", "set-role", "carol@example.com", role, "--data-dir", directory])
            #expect(outcome.status != 0 && !outcome.signaled, "role '\(role)'")
            #expect(outcome.stderr.contains("user, creator, admin"), "\(outcome.stderr)")
        }
        #expect(try await Self.role(of: id, in: directory) == .user)
    }

    // MARK: serve and the secret key

    @Test func serveOnPostgresWithoutASecretKeyRefusesToStart() async throws {
        let directory = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let url = "postgres://x:y@127.0.0.1:1/z"

        let missing = try await Self.run(["serve", "--database-url", url, "--data-dir", directory])
        #expect(missing.status != 0 && !missing.signaled)
        #expect(missing.stderr.contains("AGENTGRID_SECRET_KEY"), "\(missing.stderr)")
        #expect(missing.seconds < 15, "took \(missing.seconds) s")
        #expect(!FileManager.default.fileExists(atPath: directory + "/secret.key"), "PostgreSQL never falls back to a key file")

        let weak = try await Self.run(["serve", "--database-url", url], environment: Self.cleanEnvironment(["AGENTGRID_SECRET_KEY": "short"]))
        #expect(weak.status != 0 && !weak.signaled)
        #expect(weak.stderr.contains("AGENTGRID_SECRET_KEY"), "\(weak.stderr)")
    }

    @Test func serveOnSQLiteCreatesAnOwnerOnlySecretKeyAndStopsOnSIGTERM() async throws {
        let scratch = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        let data = scratch + "/data"
        let keyPath = data + "/secret.key"

        let started = ContinuousClock.now
        let process = try Self.start(["serve", "--port", "0", "--host", "127.0.0.1", "--data-dir", data],
                                     scratch: scratch, environment: Self.cleanEnvironment())
        // Ready once the key exists and the server listens (SIGTERM before the signal handlers
        // are installed would just kill it).
        while process.isRunning, ContinuousClock.now - started < .seconds(60),
              !(FileManager.default.fileExists(atPath: keyPath) && Self.read(scratch + "/stderr").contains("listening")) {
            try await Task.sleep(for: .milliseconds(20))
        }
        #expect(process.isRunning, "serve exited early: \(Self.read(scratch + "/stderr"))")
        let attributes = try FileManager.default.attributesOfItem(atPath: keyPath)
        #expect((attributes[.posixPermissions] as? NSNumber)?.intValue == 0o600)
        let key = Self.read(keyPath).trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(key.count == 64 && key.allSatisfy(\.isHexDigit), "\(key)")
        let dataAttributes = try FileManager.default.attributesOfItem(atPath: data)
        #expect((dataAttributes[.posixPermissions] as? NSNumber)?.intValue == 0o700)

        if process.isRunning { kill(process.processIdentifier, SIGTERM) }
        let outcome = try await Self.finish(process, scratch: scratch, started: ContinuousClock.now, timeout: .seconds(30))
        #expect(!outcome.signaled && outcome.status == 0, "status \(outcome.status): \(outcome.stderr)")
        // The key is kept for the next start.
        #expect(Self.read(keyPath).trimmingCharacters(in: .whitespacesAndNewlines) == key)
    }
}
