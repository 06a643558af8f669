import Foundation

/// Everything `agentgrid` is configured with, from flags over environment variables over
/// defaults that are safe for local use. See the README's configuration table.
public struct ControlPlaneConfig: Sendable {
    public var host = "127.0.0.1"
    public var port = 8000
    public var dataDirectory = "agentgrid-data"
    /// `postgres://…` selects PostgreSQL; nil means the embedded SQLite file in the data directory.
    public var databaseURL: String?
    public var databaseConnections = 16
    public var secretKey: String?
    public var secretKeyID = "k1"
    /// Keys still accepted for verification after a rotation: `kid:secret,kid:secret`.
    public var previousSecretKeys: [(id: String, secret: String)] = []
    public var accessTokenMinutes = 15
    public var refreshTokenDays = 30
    public var settings = ControlPlaneSettings()
    public var logLevel = "info"
    /// The sandbox profiles bundles are checked against (the runners' own set); nil: where the
    /// runner would look.
    public var profilesDirectory: String?
    /// `AGENTGRID_RUNNERS`; nil: `serve` starts a runner of its own (see `LocalRunner`).
    var runners: [RunnerEndpoint]?
    var dispatch = DispatchSettings()
    /// Slots of the local runner (default: the machine's cores).
    public var localRunnerSlots: Int?
    /// The `agentgrid-runner` binary for the local runner (default: beside `agentgrid`).
    public var runnerBinary: String?

    public init() {}

    public var storeLocation: StoreLocation {
        if let databaseURL { return .postgres(url: databaseURL, connections: databaseConnections) }
        return .sqlite(path: (dataDirectory as NSString).appendingPathComponent("agentgrid.sqlite"))
    }

    /// Reads the `AGENTGRID_*` variables (and `DATABASE_URL`); a malformed value is an error
    /// that names the variable, never a silent default.
    public static func fromEnvironment(_ environment: [String: String] = ProcessInfo.processInfo.environment) throws -> ControlPlaneConfig {
        var config = ControlPlaneConfig()
        func integer(_ name: String, _ range: ClosedRange<Int>) throws -> Int? {
            guard let text = environment[name], !text.isEmpty else { return nil }
            guard let value = Int(text), range.contains(value) else {
                throw ConfigError.invalid(name, "must be an integer in \(range.lowerBound)...\(range.upperBound), got '\(text)'")
            }
            return value
        }
        if let host = environment["AGENTGRID_HOST"], !host.isEmpty { config.host = host }
        if let port = try integer("AGENTGRID_PORT", 0...65_535) { config.port = port }
        if let dir = environment["AGENTGRID_DATA_DIR"], !dir.isEmpty { config.dataDirectory = dir }
        if let url = environment["DATABASE_URL"], !url.isEmpty { config.databaseURL = url }
        if let n = try integer("AGENTGRID_DB_CONNECTIONS", 1...500) { config.databaseConnections = n }
        if let key = environment["AGENTGRID_SECRET_KEY"], !key.isEmpty { config.secretKey = key }
        if let kid = environment["AGENTGRID_SECRET_KEY_ID"], !kid.isEmpty { config.secretKeyID = kid }
        if let old = environment["AGENTGRID_PREVIOUS_SECRET_KEYS"], !old.isEmpty {
            config.previousSecretKeys = try old.split(separator: ",").map { entry in
                let parts = entry.split(separator: ":", maxSplits: 1)
                guard parts.count == 2 else { throw ConfigError.invalid("AGENTGRID_PREVIOUS_SECRET_KEYS", "entries are kid:secret") }
                return (String(parts[0]), String(parts[1]))
            }
        }
        if let m = try integer("AGENTGRID_ACCESS_TOKEN_MINUTES", 1...1_440) { config.accessTokenMinutes = m }
        if let d = try integer("AGENTGRID_REFRESH_TOKEN_DAYS", 1...365) { config.refreshTokenDays = d }
        if let cost = try integer("AGENTGRID_BCRYPT_COST", 4...16) { config.settings.bcryptCost = UInt8(cost) }
        if let bytes = try integer("AGENTGRID_MAX_BODY_BYTES", 1_024...(64 << 20)) { config.settings.maxBodyBytes = bytes }
        if let n = try integer("AGENTGRID_LOGIN_MAX_FAILURES_PER_ACCOUNT", 1...1_000_000) { config.settings.loginLimits.perAccount = n }
        if let n = try integer("AGENTGRID_LOGIN_MAX_FAILURES_PER_ADDRESS", 1...1_000_000) { config.settings.loginLimits.perAddress = n }
        if let bytes = try integer("AGENTGRID_MAX_BUNDLE_BYTES", 1_024...ControlPlaneSettings.bundleBytesCeiling) {
            config.settings.maxBundleBytes = bytes
        }
        if let dir = environment["AGENTGRID_PROFILES"], !dir.isEmpty { config.profilesDirectory = dir }
        if let list = environment["AGENTGRID_RUNNERS"], !list.isEmpty { config.runners = try RunnerEndpoint.parseList(list) }
        if let n = try integer("AGENTGRID_LOCAL_RUNNER_SLOTS", 1...1_024) { config.localRunnerSlots = n }
        if let path = environment["AGENTGRID_RUNNER_BIN"], !path.isEmpty { config.runnerBinary = path }
        if let s = try integer("AGENTGRID_DISPATCH_LEASE_SECONDS", 1...3_600) { config.dispatch.lease = .seconds(s) }
        if let s = try integer("AGENTGRID_RUNNER_LOST_SECONDS", 1...3_600) { config.dispatch.runnerLostAfter = .seconds(s) }
        if let ms = try integer("AGENTGRID_DISPATCH_POLL_MS", 10...60_000) { config.dispatch.pollInterval = .milliseconds(ms) }
        if let level = environment["AGENTGRID_LOG_LEVEL"], !level.isEmpty { config.logLevel = level }
        return config
    }
}

public enum ConfigError: Error, CustomStringConvertible {
    case invalid(String, String)
    case unsafe(String)

    public var description: String {
        switch self {
        case .invalid(let name, let problem): "\(name) \(problem)"
        case .unsafe(let message): message
        }
    }
}
