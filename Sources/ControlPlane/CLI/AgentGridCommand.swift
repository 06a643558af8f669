import ArgumentParser
import Foundation
import Logging

public struct AgentGridCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "agentgrid",
        abstract: "The AgentGrid control plane: marketplace API, credits ledger, dispatch to runners.",
        subcommands: [ServeCommand.self, MigrateCommand.self, UsersCommand.self, CreditsCommand.self, LedgerCommand.self],
        defaultSubcommand: ServeCommand.self)

    public init() {}
}

/// Flags shared by every subcommand; each overrides its environment variable.
struct StoreOptions: ParsableArguments {
    @Option(name: .customLong("data-dir"), help: "Data directory of the embedded SQLite store (env AGENTGRID_DATA_DIR).")
    var dataDirectory: String?

    @Option(name: .customLong("database-url"), help: "postgres://user:password@host:port/db (env DATABASE_URL).")
    var databaseURL: String?

    func config() throws -> ControlPlaneConfig {
        var config: ControlPlaneConfig
        do {
            config = try ControlPlaneConfig.fromEnvironment()
        } catch {
            throw ValidationError("\(error)")
        }
        if let dataDirectory { config.dataDirectory = dataDirectory }
        if let databaseURL { config.databaseURL = databaseURL }
        return config
    }

    /// Opens the store (a failure to open is a start-up failure, exit 78), runs `body`, closes it.
    func withStore<R: Sendable>(migrate: Bool = true, _ body: (ControlPlaneConfig, Store) async throws -> R) async throws -> R {
        let config = try config()
        let db: Store
        do {
            db = try await ControlPlaneBootstrap.openStore(config, logger: makeLogger(level: config.logLevel), migrate: migrate)
        } catch {
            throw failStartup(error)
        }
        do {
            let result = try await body(config, db)
            await db.close()
            return result
        } catch {
            await db.close()
            throw error
        }
    }
}

func makeLogger(level: String) -> Logger {
    var logger = Logger(label: "agentgrid")
    logger.logLevel = Logger.Level(rawValue: level) ?? .info
    return logger
}

/// Prints a start-up failure as one clear line and exits non-zero (no stack of wrapped errors).
func failStartup(_ error: any Error) -> ExitCode {
    FileHandle.standardError.write(Data("agentgrid: \(error)\n".utf8))
    return ExitCode(78)  // EX_CONFIG
}
