import HummingbirdBcrypt
import NIOPosix

/// bcrypt, run on the blocking thread pool: a hash takes tens of milliseconds by design and
/// must not stall an event loop.
struct PasswordHasher: Sendable {
    let cost: UInt8

    func hash(_ password: String) async throws -> String {
        let cost = self.cost
        return try await NIOThreadPool.singleton.runIfActive { Bcrypt.hash(password, cost: cost) }
    }

    func verify(_ password: String, hash: String) async throws -> Bool {
        try await NIOThreadPool.singleton.runIfActive { Bcrypt.verify(password, hash: hash) }
    }

    /// A hash of a random password at our cost, verified against when the account does not
    /// exist, so a login for an unknown email takes as long as one for a known email.
    func decoyHash() async throws -> String {
        try await hash(SecureRandom.token())
    }
}

/// The password rules of the API contract, in its words.
enum PasswordRules {
    static func problems(_ password: String) -> String? {
        if !password.contains(where: \.isUppercase) { return "Password must contain at least one uppercase letter" }
        if !password.contains(where: \.isLowercase) { return "Password must contain at least one lowercase letter" }
        if !password.contains(where: \.isNumber) { return "Password must contain at least one digit" }
        // bcrypt reads only the first 72 bytes; a longer password would silently match any
        // password sharing those bytes.
        if password.utf8.count > 72 { return "Password must be at most 72 bytes" }
        return nil
    }
}
