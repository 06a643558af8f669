import ArgumentParser
import Foundation

struct CreditsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "credits", abstract: "Operator credit tools.",
                                                    subcommands: [Grant.self])

    /// Credits for a user without Stripe (demos, support, benchmarks): a `purchase` ledger row
    /// saying so, written with the balance in one transaction like every other change.
    struct Grant: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "grant", abstract: "Add credits to a user's balance.")

        @OptionGroup var store: StoreOptions
        @Argument(help: "The user's email address.") var email: String
        @Argument(help: "Credits to add: a whole number or up to 3 decimals, at most 1000000.") var amount: String

        func validate() throws {
            guard let milli = Self.milli(amount), milli > 0, milli <= 1_000_000_000 else {
                throw ValidationError("AMOUNT must be more than 0 and at most 1000000 credits, with at most 3 decimals (got '\(amount)')")
            }
        }

        static func milli(_ text: String) -> Int64? {
            JSONNumber(validating: text).flatMap { $0.scaled(decimals: 3) }
        }

        func run() async throws {
            let account = email.lowercased()
            let milli = Self.milli(amount)!
            let balance = try await store.withStore { _, db in
                try await db.transaction { db -> Int64? in
                    guard let user = try await UserStore.find(email: account, in: db) else { return nil }
                    try await Ledger.post(userID: user.id, amountMilli: milli, type: .purchase,
                                          description: "Granted by the operator", referenceID: nil, in: db)
                    return try await LedgerStore.balance(userID: user.id, in: db)
                }
            }
            guard let balance else {
                FileHandle.standardError.write(Data("agentgrid: no user with email \(account)\n".utf8))
                throw ExitCode(1)
            }
            print("granted \(JSONNumber.milli(milli).text) credits to \(account); balance \(JSONNumber.milli(balance).text)")
        }
    }
}
