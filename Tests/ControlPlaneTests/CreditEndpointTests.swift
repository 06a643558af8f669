import Foundation
import Testing
@testable import ControlPlane

/// The ledger's read side over HTTP, and the audit behind `agentgrid ledger verify`.
@Suite struct CreditEndpointTests {
    @Test(arguments: StoreKind.allCases)
    func aNewAccountSeesItsWelcomeCreditsAsOneRow(_ kind: StoreKind) async throws {
        try await TestServer.run(kind) { server in
            let alice = try await server.signUp("alice")
            let balance = try await server.get("/api/v1/credits/balance", token: alice.accessToken)
            #expect(balance.status == .ok)
            #expect(balance.json == ["balance": 100])
            let rows = try await server.get("/api/v1/credits/transactions", token: alice.accessToken)
            #expect(rows.status == .ok)
            #expect(rows.json["total"] == 1)
            let row = try #require(rows.json["data"]?[0])
            #expect(row["amount"] == 100)
            #expect(row["type"] == "purchase")
            #expect(row["description"] == "Welcome credits")
            #expect(try await server.store.read { db in try await LedgerAudit.run(in: db) } == [])
        }
    }

    /// A reference moves a user's credits once per kind of entry; entries without a reference
    /// (grants, welcome credits) never collide, however many there are.
    @Test(arguments: StoreKind.allCases)
    func aReferenceMovesCreditsOncePerKindAndUnreferencedRowsNeverCollide(_ kind: StoreKind) async throws {
        try await TestServer.run(kind) { server in
            let alice = try await server.signUp("alice")
            for _ in 0..<3 {
                _ = try await server.store.transaction { db in
                    try await Ledger.post(userID: alice.id, amountMilli: 1_000, type: .purchase, description: "grant", referenceID: nil, in: db)
                }
            }
            try await server.store.transaction { db in
                try await Ledger.post(userID: alice.id, amountMilli: 2_000, type: .refund, description: "r", referenceID: "run-1", in: db)
                try await Ledger.post(userID: alice.id, amountMilli: 3_000, type: .earning, description: "e", referenceID: "run-1", in: db)
            }
            await #expect(throws: Ledger.PostError.alreadyPosted) {
                try await server.store.transaction { db in
                    try await Ledger.post(userID: alice.id, amountMilli: 2_000, type: .refund, description: "again", referenceID: "run-1", in: db)
                }
            }
            // The refused row took its balance change with it.
            let balance = try await server.get("/api/v1/credits/balance", token: alice.accessToken)
            #expect(balance.json == ["balance": 108])
            let refunds = try await server.get("/api/v1/credits/transactions?type=refund", token: alice.accessToken)
            #expect(refunds.json["total"] == 1)
            let sum = try await server.store.read { db in try await Ledger.sum(userID: alice.id, in: db) }
            #expect(sum == 108_000)
        }
    }

    @Test(arguments: StoreKind.allCases)
    func transactionsAreTheCallersOwnNewestFirstAndFilterable(_ kind: StoreKind) async throws {
        try await TestServer.run(kind) { server in
            let alice = try await server.signUp("alice")
            let bob = try await server.signUp("bob")
            try await server.store.transaction { db in
                try await Ledger.post(userID: alice.id, amountMilli: 2_500, type: .purchase, description: "first", referenceID: "a1", in: db)
                try await Ledger.post(userID: alice.id, amountMilli: -1_250, type: .payout, description: "second", referenceID: "a2", in: db)
                try await Ledger.post(userID: bob.id, amountMilli: 7_000, type: .purchase, description: "bob's", referenceID: "b1", in: db)
            }
            let all = try await server.get("/api/v1/credits/transactions?limit=2", token: alice.accessToken)
            #expect(all.json["total"] == 3)
            #expect(all.json["total_pages"] == 2)
            #expect(all.json["data"]?.arrayValue?.map { $0["description"] } == ["second", "first"])
            #expect(all.json["data"]?[0]?["amount"] == .number(JSONNumber(text: "-1.25")))
            let page2 = try await server.get("/api/v1/credits/transactions?limit=2&skip=2", token: alice.accessToken)
            #expect(page2.json["data"]?.arrayValue?.map { $0["description"] } == ["Welcome credits"])
            let payouts = try await server.get("/api/v1/credits/transactions?type=payout", token: alice.accessToken)
            #expect(payouts.json["total"] == 1)
            #expect(try await server.get("/api/v1/credits/balance", token: alice.accessToken).json == ["balance": .number(JSONNumber(text: "101.25"))])
            let bobs = try await server.get("/api/v1/credits/transactions", token: bob.accessToken)
            #expect(bobs.json["data"]?.arrayValue?.allSatisfy { $0["description"] != "first" && $0["description"] != "second" } == true)
            #expect(try await server.get("/api/v1/credits/transactions?limit=101", token: alice.accessToken).status == .unprocessableContent)
            #expect(try await server.get("/api/v1/credits/transactions").status == .unauthorized)
        }
    }

    @Test(arguments: StoreKind.allCases)
    func theAuditFindsBalancesAndExecutionsThatDoNotAddUp(_ kind: StoreKind) async throws {
        try await TestServer.run(kind) { server in
            let alice = try await server.signUp("alice")
            let creator = try await server.account("carol", role: .creator)
            let created = try await server.post("/api/v1/agents", TestServer.agentBody(), token: creator.accessToken)
            let agentID = try #require(created.json["id"]?.stringValue)
            let held = UUID().uuidString.lowercased()
            let unpaid = UUID().uuidString.lowercased()
            try await server.store.transaction { db in
                // A completed run whose hold was posted but whose capture never was.
                try await Ledger.post(userID: alice.id, amountMilli: -5_000, type: .usage, description: "run", referenceID: held, in: db)
                for (id, status) in [(held, "completed"), (unpaid, "failed")] {
                    try await db.raw("""
                        INSERT INTO executions (id, agent_id, user_id, status, inputs, credits_used_milli, created_at)
                        VALUES (\(bind: id), \(bind: agentID), \(bind: alice.id), \(bind: status), '{}', 5000, \(bind: Timestamp.now()))
                        """).run()
                }
                // Run money for an execution that does not exist.
                try await Ledger.post(userID: creator.id, amountMilli: 3_500, type: .earning, description: "ghost", referenceID: "nope", in: db)
                // And a balance moved without its row.
                try await db.raw("UPDATE users SET credits_milli = credits_milli + 1 WHERE id = \(bind: alice.id)").run()
            }
            let found = try await server.store.read { db in try await LedgerAudit.run(in: db) }.map(\.description)
            #expect(found.contains("user \(alice.id): balance 95.001 but its ledger rows sum to 95"), "\(found)")
            #expect(found.contains("execution \(held): completed with earnings 0 and refunds 0; expected 5 and 0"), "\(found)")
            #expect(found.contains("execution \(unpaid): held 0 for a price of 5"), "\(found)")
            #expect(found.contains("execution \(unpaid): failed with earnings 0 and refunds 0; expected 0 and 5"), "\(found)")
            #expect(found.contains { $0.contains("earning for no execution (reference nope)") }, "\(found)")
            #expect(found.count == 5, "\(found)")
        }
    }
}
