import ArgumentParser
import Foundation

struct UsersCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "users", abstract: "Manage users from the command line.",
                                                    subcommands: [SetRole.self])

    /// How the first admin is made: the API only lets an admin grant admin.
    struct SetRole: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "set-role", abstract: "Set a user's role (user, creator, admin).")

        @OptionGroup var store: StoreOptions
        @Argument(help: "The user's email address.") var email: String
        @Argument(help: "user, creator or admin.") var role: String

        func validate() throws {
            guard Role(rawValue: role) != nil else { throw ValidationError("ROLE must be one of: user, creator, admin (got '\(role)')") }
        }

        func run() async throws {
            let role = Role(rawValue: self.role)!
            let account = email.lowercased()
            let found = try await store.withStore { _, db in
                try await db.transaction { db -> Bool in
                    guard let user = try await UserStore.find(email: account, in: db) else { return false }
                    try await UserStore.setRole(id: user.id, role: role, in: db)
                    return true
                }
            }
            guard found else {
                FileHandle.standardError.write(Data("agentgrid: no user with email \(account)\n".utf8))
                throw ExitCode(1)
            }
            print("\(account) is now \(role.rawValue)")
        }
    }
}
