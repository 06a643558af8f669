import Foundation

/// Where the JWT signing secret comes from. The embedded default generates one on first start
/// and keeps it beside the database (so tokens survive restarts); a PostgreSQL deployment —
/// several nodes that must agree on the key — refuses to start without one given explicitly.
enum SecretKeys {
    static let minimumLength = 32
    static let fileName = "secret.key"

    static func resolve(_ config: ControlPlaneConfig) throws -> [TokenService.SigningKey] {
        let current: String
        if let given = config.secretKey {
            current = given
        } else if config.databaseURL != nil {
            throw ConfigError.unsafe("""
                AGENTGRID_SECRET_KEY is not set. With DATABASE_URL (PostgreSQL) every control-plane node must sign \
                tokens with the same key: set AGENTGRID_SECRET_KEY to at least \(minimumLength) random characters \
                (e.g. `openssl rand -hex 32`).
                """)
        } else {
            current = try persistedKey(in: config.dataDirectory)
        }
        guard current.utf8.count >= minimumLength else {
            throw ConfigError.unsafe("AGENTGRID_SECRET_KEY must be at least \(minimumLength) characters long")
        }
        var keys = [TokenService.SigningKey(id: config.secretKeyID, secret: Array(current.utf8))]
        for old in config.previousSecretKeys {
            guard old.secret.utf8.count >= minimumLength else {
                throw ConfigError.unsafe("AGENTGRID_PREVIOUS_SECRET_KEYS: key '\(old.id)' is shorter than \(minimumLength) characters")
            }
            guard old.id != config.secretKeyID else {
                throw ConfigError.unsafe("AGENTGRID_PREVIOUS_SECRET_KEYS reuses the current key id '\(old.id)'")
            }
            keys.append(.init(id: old.id, secret: Array(old.secret.utf8)))
        }
        return keys
    }

    /// Reads `secret.key` from the data directory, creating it (mode 0600) on first use.
    static func persistedKey(in directory: String) throws -> String {
        let path = (directory as NSString).appendingPathComponent(fileName)
        if let existing = FileManager.default.contents(atPath: path) {
            let text = String(decoding: existing, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            guard text.utf8.count >= minimumLength else {
                throw ConfigError.unsafe("\(path) holds a key shorter than \(minimumLength) characters; delete it to generate a new one")
            }
            return text
        }
        let key = SecureRandom.bytes(32).map { String(format: "%02x", $0) }.joined()
        // Created exclusively and owner-only: a second process starting at the same moment
        // either wins or reads the winner's key.
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        if fd < 0 {
            if errno == EEXIST { return try persistedKey(in: directory) }
            throw ConfigError.unsafe("cannot create \(path): \(String(cString: strerror(errno)))")
        }
        defer { close(fd) }
        let bytes = Array((key + "\n").utf8)
        guard write(fd, bytes, bytes.count) == bytes.count, fsync(fd) == 0 else {
            throw ConfigError.unsafe("cannot write \(path): \(String(cString: strerror(errno)))")
        }
        return key
    }
}
