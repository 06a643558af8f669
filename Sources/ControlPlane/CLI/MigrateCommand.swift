import ArgumentParser
import Foundation

struct MigrateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "migrate", abstract: "Bring the store's schema up to date and exit.")

    @OptionGroup var store: StoreOptions

    func run() async throws {
        let config = try store.config()
        let logger = makeLogger(level: config.logLevel)
        let db: Store
        do {
            db = try await ControlPlaneBootstrap.openStore(config, logger: logger, migrate: false)
        } catch {
            throw failStartup(error)
        }
        do {
            let applied = try await Migrator.migrate(db, logger: logger)
            let version = try await Migrator.currentVersion(db)
            print(applied.isEmpty ? "schema is up to date (version \(version))"
                                  : "applied \(applied.map(String.init).joined(separator: ", ")); schema version \(version)")
        } catch {
            await db.close()
            throw failStartup(error)
        }
        await db.close()
    }
}
