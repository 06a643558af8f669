import Foundation
import Logging
import Sandbox

/// Turns a configuration into running parts: data directory, store (migrated), keys, services.
public enum ControlPlaneBootstrap {
    public static func openStore(_ config: ControlPlaneConfig, logger: Logger, migrate: Bool = true) async throws -> Store {
        if config.databaseURL == nil { try prepareDataDirectory(config.dataDirectory) }
        let store = try await Store.open(config.storeLocation, logger: logger)
        do {
            if migrate { try await Migrator.migrate(store, logger: logger) }
        } catch {
            await store.close()
            throw error
        }
        return store
    }

    public static func services(_ config: ControlPlaneConfig, store: Store, logger: Logger) async throws -> ControlPlaneServices {
        let keys = try SecretKeys.resolve(config)
        let tokens = await TokenService(keys: keys, accessTokenLifetime: TimeInterval(config.accessTokenMinutes * 60),
                                        refreshTokenLifetime: TimeInterval(config.refreshTokenDays * 86_400))
        let directory = ProfileDirectory.resolve(config.profilesDirectory)
        let profiles: ProfileCatalog
        do { profiles = try ProfileCatalog.load(directory: directory) } catch {
            throw ConfigError.invalid("AGENTGRID_PROFILES", "(\(directory)): \(error)")
        }
        return try await ControlPlaneServices(store: store, tokens: tokens, settings: config.settings, profiles: profiles, logger: logger)
    }

    /// The data directory holds the database and the secret key: owner-only.
    static func prepareDataDirectory(_ path: String) throws {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) {
            guard isDirectory.boolValue else { throw ConfigError.invalid("AGENTGRID_DATA_DIR", "'\(path)' exists and is not a directory") }
            return
        }
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
    }
}
