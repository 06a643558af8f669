import Logging

/// What the routes need, built once at start-up and passed in (nothing reaches for globals).
public struct ControlPlaneServices: Sendable {
    let store: Store
    let tokens: TokenService
    let passwords: PasswordHasher
    let loginLimiter: LoginRateLimiter
    let authenticator: Authenticator
    let decoyPasswordHash: String
    let settings: ControlPlaneSettings
    let profiles: ProfileCatalog
    /// Live runs of this node, for log streaming.
    let events = ExecutionEvents()
    /// The routes' line to the dispatcher.
    let dispatch = DispatchControl()
    let logger: Logger

    init(store: Store, tokens: TokenService, settings: ControlPlaneSettings, profiles: ProfileCatalog = .empty,
         logger: Logger) async throws {
        self.store = store
        self.profiles = profiles
        self.tokens = tokens
        self.passwords = PasswordHasher(cost: settings.bcryptCost)
        self.loginLimiter = LoginRateLimiter(limits: settings.loginLimits)
        self.authenticator = Authenticator(tokens: tokens, store: store)
        self.decoyPasswordHash = try await passwords.decoyHash()
        self.settings = settings
        self.logger = logger
    }
}

/// Tunables the routes read (the server's address and the store live in `ControlPlaneConfig`).
public struct ControlPlaneSettings: Sendable {
    public var bcryptCost: UInt8 = 10
    public var maxBodyBytes: Int = 1 << 20
    /// An uploaded bundle's .tar.gz. It travels to a runner inline (base64) in one protocol frame
    /// of at most 8 MiB, hence the ceiling.
    public var maxBundleBytes: Int = 4 << 20
    static let bundleBytesCeiling = 6 << 20
    var loginLimits = LoginRateLimiter.Limits()
    public var welcomeCreditsMilli: Int64 = 100_000
    public var version: String = AgentGridVersion.current

    public init() {}
}

public enum AgentGridVersion {
    public static let current = "0.4.0"
}
