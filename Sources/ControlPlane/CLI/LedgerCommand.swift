import ArgumentParser
import Foundation

struct LedgerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ledger", abstract: "Inspect the credits ledger.", subcommands: [LedgerVerifyCommand.self])
}

/// Read-only: exits 0 when the books balance, 1 with one line per discrepancy when not.
struct LedgerVerifyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Check every balance against its ledger rows and every execution's hold, capture and refund.")

    @OptionGroup var store: StoreOptions

    func run() async throws {
        let (config, found) = try await store.withStore(migrate: false) { config, db in
            do {
                let version = try await Migrator.currentVersion(db)
                guard version == Migrator.latestVersion else {
                    throw ConfigError.invalid("store", "schema version \(version), this build expects \(Migrator.latestVersion): run `agentgrid migrate` first")
                }
                return (config, try await db.read { sql in try await LedgerAudit.run(in: sql) })
            } catch {
                throw failStartup(error)
            }
        }
        for discrepancy in found { print("discrepancy: \(discrepancy)") }
        print("ledger verify: \(found.count) discrepanc\(found.count == 1 ? "y" : "ies") (\(config.storeLocation.description))")
        if !found.isEmpty { throw ExitCode.failure }
    }
}
