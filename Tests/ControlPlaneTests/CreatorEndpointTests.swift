import Foundation
import Testing
@testable import ControlPlane

@Suite struct CreatorEndpointTests {
    @Test(arguments: StoreKind.allCases)
    func myAgentsListsEveryStatusOfMineOnly(_ kind: StoreKind) async throws {
        try await TestServer.run(kind) { server in
            let carol = try await server.account("carol", role: .creator)
            let oscar = try await server.account("oscar", role: .creator)
            let user = try await server.signUp("ursula")
            try await AgentSeed.insert([
                AgentSeed.make("Carol Active", creator: carol.id, second: 1, status: .active),
                AgentSeed.make("Carol Inactive", creator: carol.id, second: 2, status: .inactive),
                AgentSeed.make("Carol Pending", creator: carol.id, second: 3, status: .pendingReview),
                AgentSeed.make("Carol Rejected", creator: carol.id, second: 4, status: .rejected),
                AgentSeed.make("Oscar Active", creator: oscar.id, second: 5, status: .active),
                AgentSeed.make("Oscar Pending", creator: oscar.id, second: 6, status: .pendingReview),
            ], on: server)

            for path in ["/api/v1/creators/me/agents", "/api/v1/creators/me/agents/"] {
                let mine = try await server.get(path, token: carol.accessToken)
                #expect(mine.status == .ok, "\(path)")
                #expect(AgentSeed.names(mine) == ["Carol Rejected", "Carol Pending", "Carol Inactive", "Carol Active"], "\(path)")
                #expect(mine.json["total"] == 4)
                #expect(mine.json["page"] == 1)
                #expect(mine.json["per_page"] == 20)
                #expect(mine.json["total_pages"] == 1)
                #expect(mine.json["data"]?.arrayValue?.allSatisfy { $0["creator_id"] == .string(carol.id) } == true)
            }
            #expect(AgentSeed.names(try await server.get("/api/v1/creators/me/agents", token: oscar.accessToken)) == ["Oscar Pending", "Oscar Active"])
            let none = try await server.get("/api/v1/creators/me/agents", token: user.accessToken)
            #expect(none.status == .ok)
            #expect(none.json["data"] == [])
            #expect(none.json["total"] == 0)
            #expect(none.json["total_pages"] == 0)

            let byStatus: [(String, [String])] = [
                ("active", ["Carol Active"]), ("inactive", ["Carol Inactive"]),
                ("pending_review", ["Carol Pending"]), ("rejected", ["Carol Rejected"]),
            ]
            for (status, expected) in byStatus {
                let response = try await server.get("/api/v1/creators/me/agents?status=\(status)", token: carol.accessToken)
                #expect(response.status == .ok, "\(status)")
                #expect(AgentSeed.names(response) == expected, "\(status)")
                #expect(response.json["total"] == 1, "\(status)")
            }
            for bad in ["published", "ACTIVE", ""] {
                let response = try await server.get("/api/v1/creators/me/agents?status=\(bad)", token: carol.accessToken)
                #expect(response.status == .unprocessableContent, "\(bad)")
                #expect(response.issueLocations == ["query.status"], "\(bad)")
            }

            // Pagination, newest first, no agent on two pages.
            var seen: [String] = []
            for (skip, page) in [(0, 1), (2, 2)] {
                let response = try await server.get("/api/v1/creators/me/agents?limit=2&skip=\(skip)", token: carol.accessToken)
                #expect(response.json["total"] == 4)
                #expect(response.json["page"] == .number(JSONNumber(page)))
                #expect(response.json["per_page"] == 2)
                #expect(response.json["total_pages"] == 2)
                seen += AgentSeed.names(response)
            }
            #expect(seen == ["Carol Rejected", "Carol Pending", "Carol Inactive", "Carol Active"])
            let beyond = try await server.get("/api/v1/creators/me/agents?limit=2&skip=4", token: carol.accessToken)
            #expect(beyond.json["data"] == [])
            #expect(beyond.json["page"] == 3)
            for query in ["limit=0", "limit=101", "skip=-1", "limit=x"] {
                let response = try await server.get("/api/v1/creators/me/agents?\(query)", token: carol.accessToken)
                #expect(response.status == .unprocessableContent, "\(query)")
                #expect(response.issueLocations == ["query." + String(query.prefix { $0 != "=" })], "\(query)")
            }

            for token in [nil, "garbage"] as [String?] {
                let anonymous = try await server.get("/api/v1/creators/me/agents", token: token)
                #expect(anonymous.status == .unauthorized)
                #expect(anonymous.headers[.wwwAuthenticate] == "Bearer")
            }
        }
    }

    @Test(arguments: StoreKind.allCases)
    func myAgentsFollowsTheAPI(_ kind: StoreKind) async throws {
        try await TestServer.run(kind) { server in
            let carol = try await server.account("carol", role: .creator)
            let admin = try await server.account("adam", role: .admin)
            let first = try await server.createAgent(as: carol, TestServer.agentBody(name: "First Agent"))
            let second = try await server.createAgent(as: carol, TestServer.agentBody(name: "Second Agent"))
            try await server.approve(first, admin: admin)
            #expect(try await server.delete("/api/v1/agents/\(second)", token: carol.accessToken).status == .noContent)

            let mine = try await server.get("/api/v1/creators/me/agents", token: carol.accessToken)
            #expect(Set(AgentSeed.ids(mine)) == [first, second])
            let statuses = Dictionary(uniqueKeysWithValues: (mine.json["data"]?.arrayValue ?? []).map {
                ($0["id"]?.stringValue ?? "", $0["status"]?.stringValue ?? "")
            })
            #expect(statuses == [first: "active", second: "inactive"])
            // The entries are full agents, as GET /agents/{id} shows them.
            let single = try await server.get("/api/v1/agents/\(first)", token: carol.accessToken)
            #expect(mine.json["data"]?.arrayValue?.first { $0["id"] == .string(first) } == single.json)
            // An admin's list is their own, not everyone's.
            #expect(try await server.get("/api/v1/creators/me/agents", token: admin.accessToken).json["total"] == 0)
        }
    }

    @Test(arguments: StoreKind.allCases)
    func statsCountAgentsRunsRatingsAndEarnings(_ kind: StoreKind) async throws {
        try await TestServer.run(kind) { server in
            let carol = try await server.account("carol", role: .creator)
            let oscar = try await server.account("oscar", role: .creator)

            let fresh = try await server.get("/api/v1/creators/me/stats", token: carol.accessToken)
            #expect(fresh.status == .ok)
            #expect(fresh.json == [
                "total_agents": 0, "active_agents": 0, "pending_agents": 0, "total_runs": 0,
                "total_reviews": 0, "average_rating": 0, "total_earnings": 0,
            ])

            try await AgentSeed.insert([
                AgentSeed.make("C1", creator: carol.id, second: 1, rating: 4.0, totalRuns: 10, totalReviews: 2, status: .active),
                AgentSeed.make("C2", creator: carol.id, second: 2, rating: 5.0, totalRuns: 5, totalReviews: 1, status: .active),
                AgentSeed.make("C3", creator: carol.id, second: 3, status: .pendingReview),
                AgentSeed.make("C4", creator: carol.id, second: 4, status: .pendingReview),
                // Runs of an agent that is no longer listed still count; a rating without reviews weighs nothing.
                AgentSeed.make("C5", creator: carol.id, second: 5, rating: 1.0, totalRuns: 2, totalReviews: 0, status: .inactive),
                AgentSeed.make("C6", creator: carol.id, second: 6, status: .rejected),
                AgentSeed.make("O1", creator: oscar.id, second: 7, rating: 1.0, totalRuns: 100, totalReviews: 10, status: .active),
            ], on: server)
            try await server.store.transaction { db in
                try await Ledger.post(userID: carol.id, amountMilli: 12_345, type: .earning, description: "Run earning",
                                      referenceID: "execution-1", in: db)
                try await Ledger.post(userID: carol.id, amountMilli: 500, type: .earning, description: "Run earning",
                                      referenceID: "execution-2", in: db)
                // Neither a payout, a purchase nor someone else's earning is an earning of Carol's.
                try await Ledger.post(userID: carol.id, amountMilli: -10_000, type: .payout, description: "Payout",
                                      referenceID: "payout-1", in: db)
                try await Ledger.post(userID: carol.id, amountMilli: 20_000, type: .purchase, description: "Pack",
                                      referenceID: "purchase-1", in: db)
                try await Ledger.post(userID: oscar.id, amountMilli: 99_999, type: .earning, description: "Run earning",
                                      referenceID: "execution-3", in: db)
            }

            let stats = try await server.get("/api/v1/creators/me/stats", token: carol.accessToken)
            #expect(stats.status == .ok)
            #expect(stats.json["total_agents"] == 6)
            #expect(stats.json["active_agents"] == 2)
            #expect(stats.json["pending_agents"] == 2)
            #expect(stats.json["total_runs"] == 17)
            #expect(stats.json["total_reviews"] == 3)
            // Weighted by reviews: (4.0 × 2 + 5.0 × 1) / 3 = 4.333…, to two places.
            #expect(stats.json["average_rating"]?.numberValue?.double == 4.33)
            #expect(stats.json["total_earnings"]?.numberValue?.text == "12.845")

            let other = try await server.get("/api/v1/creators/me/stats", token: oscar.accessToken)
            #expect(other.json["total_agents"] == 1)
            #expect(other.json["active_agents"] == 1)
            #expect(other.json["pending_agents"] == 0)
            #expect(other.json["total_runs"] == 100)
            #expect(other.json["total_reviews"] == 10)
            #expect(other.json["average_rating"]?.numberValue?.double == 1)
            #expect(other.json["total_earnings"]?.numberValue?.text == "99.999")

            // The figures follow the API: an approved agent moves from pending to active.
            let admin = try await server.account("adam", role: .admin)
            let id = try await server.createAgent(as: carol)
            #expect(try await server.get("/api/v1/creators/me/stats", token: carol.accessToken).json["pending_agents"] == 3)
            try await server.approve(id, admin: admin)
            let after = try await server.get("/api/v1/creators/me/stats", token: carol.accessToken)
            #expect(after.json["total_agents"] == 7)
            #expect(after.json["active_agents"] == 3)
            #expect(after.json["pending_agents"] == 2)

            for token in [nil, "garbage"] as [String?] {
                let anonymous = try await server.get("/api/v1/creators/me/stats", token: token)
                #expect(anonymous.status == .unauthorized)
                #expect(anonymous.headers[.wwwAuthenticate] == "Bearer")
            }
        }
    }
}
