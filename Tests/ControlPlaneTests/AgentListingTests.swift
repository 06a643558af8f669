import Foundation
import Testing
@testable import ControlPlane

/// Agents written straight into the store (fast, and with the exact `created_at`, rating and run
/// counts a test needs), plus small helpers for agent request bodies and list responses.
enum AgentSeed {
    /// A fixed instant (2025-06-15) so `newest` order is decided by the test, not by the clock.
    static let epoch: Int64 = 1_750_000_000_000_000

    static let config: JSONValue = [
        "model": "gpt-4", "temperature": 0.5, "max_tokens": 1000, "timeout_seconds": 60,
        "required_inputs": [["name": "text", "type": "string", "required": true]], "output_schema": [:],
    ]

    /// An agent row; `second` places it `second` seconds after `epoch`.
    static func make(_ name: String, creator: String, second: Int64, description: String = "An agent seeded for the listing tests.",
                     category: AgentCategory = .content, tags: [String] = ["general"], priceMilli: Int64 = 5_000,
                     rating: Double = 0, totalRuns: Int64 = 0, totalReviews: Int64 = 0, status: AgentStatus = .active) -> Agent {
        let at = epoch + second * 1_000_000
        return Agent(
            id: UUID().uuidString.lowercased(), name: name, description: description, longDescription: nil, category: category,
            tags: tags, creatorID: creator, version: "1.0.0", priceMilli: priceMilli, rating: rating, totalRuns: totalRuns,
            totalReviews: totalReviews, status: status, config: config, capabilities: ["testing"], limitations: nil,
            thumbnailURL: nil, demoAvailable: false, bundleHash: nil, createdAt: at, updatedAt: at)
    }

    static func insert(_ agents: [Agent], on server: TestServer) async throws {
        try await server.store.transaction { db in
            for agent in agents { try await AgentStore.insert(agent, in: db) }
        }
    }

    /// The `data` of a list envelope, by field.
    static func names(_ response: APIResponse) -> [String] {
        response.json["data"]?.arrayValue?.compactMap { $0["name"]?.stringValue } ?? []
    }

    static func ids(_ response: APIResponse) -> [String] {
        response.json["data"]?.arrayValue?.compactMap { $0["id"]?.stringValue } ?? []
    }

    /// The `type` of each issue of a 422 body.
    static func issueTypes(_ response: APIResponse) -> [String] {
        response.json["detail"]?.arrayValue?.compactMap { $0["type"]?.stringValue } ?? []
    }

    /// `body` with the member at a dotted `path` ("config.max_tokens") set to `value`, or removed when nil.
    static func setting(_ path: String, to value: JSONValue?, in body: JSONValue) -> JSONValue {
        set(body, path.split(separator: ".").map(String.init)[...], value)
    }

    private static func set(_ node: JSONValue, _ keys: ArraySlice<String>, _ value: JSONValue?) -> JSONValue {
        guard let key = keys.first else { return value ?? .null }
        var object = node.objectValue ?? JSONObject()
        if keys.count == 1 {
            object[key] = value
        } else {
            object[key] = set(object[key] ?? .object(JSONObject()), keys.dropFirst(), value)
        }
        return .object(object)
    }

    /// Percent-encodes everything but unreserved ASCII, so the server sees exactly `text`.
    static func encoded(_ text: String) -> String {
        let unreserved = CharacterSet(charactersIn: "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~")
        return text.addingPercentEncoding(withAllowedCharacters: unreserved)!
    }
}

@Suite struct AgentListingTests {
    @Test(arguments: StoreKind.allCases)
    func onlyActiveAgentsAreListedOnBothPaths(_ kind: StoreKind) async throws {
        try await TestServer.run(kind) { server in
            let creator = try await server.account("carol", role: .creator)
            let admin = try await server.account("adam", role: .admin)
            let viewer = try await server.signUp("vera")
            let approved = try await server.createAgent(as: creator, TestServer.agentBody(name: "Approved One"))
            let alsoApproved = try await server.createAgent(as: creator, TestServer.agentBody(name: "Approved Two"))
            _ = try await server.createAgent(as: creator, TestServer.agentBody(name: "Still Pending"))
            let rejected = try await server.createAgent(as: creator, TestServer.agentBody(name: "Rejected One"))
            let withdrawn = try await server.createAgent(as: creator, TestServer.agentBody(name: "Withdrawn One"))
            try await server.approve(approved, admin: admin)
            try await server.approve(alsoApproved, admin: admin)
            try await server.approve(withdrawn, admin: admin)
            #expect(try await server.patch("/api/v1/agents/\(rejected)", ["status": "rejected"], token: admin.accessToken).status == .ok)
            #expect(try await server.patch("/api/v1/agents/\(withdrawn)", ["status": "inactive"], token: creator.accessToken).status == .ok)

            for path in ["/api/v1/agents", "/api/v1/agents/"] {
                for token in [nil, viewer.accessToken, creator.accessToken, admin.accessToken] {
                    let list = try await server.get(path, token: token)
                    #expect(list.status == .ok, "\(path)")
                    #expect(Set(AgentSeed.ids(list)) == [approved, alsoApproved], "\(path)")
                    #expect(list.json["total"] == 2)
                    #expect(list.json["data"]?.arrayValue?.allSatisfy { $0["status"] == "active" } == true)
                }
            }
        }
    }

    @Test(arguments: StoreKind.allCases)
    func categoryFilter(_ kind: StoreKind) async throws {
        try await TestServer.run(kind) { server in
            let creator = try await server.account("carol", role: .creator)
            try await AgentSeed.insert([
                AgentSeed.make("Writer A", creator: creator.id, second: 1, category: .content),
                AgentSeed.make("Writer B", creator: creator.id, second: 2, category: .content),
                AgentSeed.make("Scholar", creator: creator.id, second: 3, category: .research),
                AgentSeed.make("Hidden Scholar", creator: creator.id, second: 4, category: .research, status: .inactive),
                AgentSeed.make("Helpdesk", creator: creator.id, second: 5, category: .customerService),
            ], on: server)

            let research = try await server.get("/api/v1/agents?category=research")
            #expect(AgentSeed.names(research) == ["Scholar"])
            #expect(research.json["total"] == 1)
            #expect(AgentSeed.names(try await server.get("/api/v1/agents/?category=customer_service")) == ["Helpdesk"])
            #expect(AgentSeed.names(try await server.get("/api/v1/agents?category=content")) == ["Writer B", "Writer A"])
            let marketing = try await server.get("/api/v1/agents?category=marketing")
            #expect(marketing.status == .ok)
            #expect(AgentSeed.names(marketing).isEmpty)
            #expect(marketing.json["total"] == 0)

            for bad in ["cooking", "Content", "customer%20service", ""] {
                let response = try await server.get("/api/v1/agents?category=\(bad)")
                #expect(response.status == .unprocessableContent, "\(bad)")
                #expect(response.issueLocations == ["query.category"], "\(bad)")
            }
        }
    }

    @Test(arguments: StoreKind.allCases)
    func searchIsCaseInsensitiveOnNameAndDescription(_ kind: StoreKind) async throws {
        try await TestServer.run(kind) { server in
            let creator = try await server.account("carol", role: .creator)
            try await AgentSeed.insert([
                AgentSeed.make("Über Translator", creator: creator.id, second: 1, description: "Translates text between languages."),
                AgentSeed.make("Résumé Polisher", creator: creator.id, second: 2, description: "Makes job applications shine."),
                AgentSeed.make("Data Miner", creator: creator.id, second: 3, description: "Finds PATTERNS in spreadsheets."),
                AgentSeed.make("Plain Bot", creator: creator.id, second: 4, description: "Does ordinary things well."),
                AgentSeed.make("Über Hidden", creator: creator.id, second: 5, description: "Inactive, so never listed.", status: .inactive),
            ], on: server)

            let cases: [(String, [String])] = [
                ("ÜBER", ["Über Translator"]),
                ("über", ["Über Translator"]),
                ("üBeR tRaNs", ["Über Translator"]),
                ("RÉSUMÉ", ["Résumé Polisher"]),
                ("patterns", ["Data Miner"]),           // description, stored upper case
                ("SPREADSHEETS.", ["Data Miner"]),
                ("TRANSLATES TEXT", ["Über Translator"]),
                ("data miner", ["Data Miner"]),
                ("bot", ["Plain Bot"]),
                ("hidden", []),
                ("nothing like this", []),
            ]
            for (search, expected) in cases {
                let response = try await server.get("/api/v1/agents?search=\(AgentSeed.encoded(search))")
                #expect(response.status == .ok, "\(search)")
                #expect(AgentSeed.names(response) == expected, "\(search)")
                #expect(response.json["total"] == .number(JSONNumber(expected.count)), "\(search)")
            }
            // A space arrives as `+` (forms) or `%20`; a literal plus is `%2B`.
            #expect(AgentSeed.names(try await server.get("/api/v1/agents?search=data+miner")) == ["Data Miner"])
            #expect(AgentSeed.names(try await server.get("/api/v1/agents/?search=DATA%20MINER")) == ["Data Miner"])
            #expect(AgentSeed.names(try await server.get("/api/v1/agents?search=data%2Bminer")).isEmpty)
            // An empty search is no filter.
            #expect(try await server.get("/api/v1/agents?search=").json["total"] == 4)
            // Search combines with the other filters.
            #expect(AgentSeed.names(try await server.get("/api/v1/agents?search=o&category=research")).isEmpty)
        }
    }

    @Test(arguments: StoreKind.allCases)
    func searchMatchesLikeWildcardsQuotesAndSQLLiterally(_ kind: StoreKind) async throws {
        try await TestServer.run(kind) { server in
            let creator = try await server.account("carol", role: .creator)
            try await AgentSeed.insert([
                AgentSeed.make("100% Uptime Bot", creator: creator.id, second: 1),
                AgentSeed.make("snake_case Helper", creator: creator.id, second: 2),
                AgentSeed.make("O'Reilly Guide", creator: creator.id, second: 3),
                AgentSeed.make(#"Back\slash Tool"#, creator: creator.id, second: 4),
                AgentSeed.make("Plain Agent", creator: creator.id, second: 5),
                AgentSeed.make("Another Plain Agent", creator: creator.id, second: 6),
            ], on: server)

            let cases: [(String, [String])] = [
                ("%", ["100% Uptime Bot"]),
                ("%%", []),
                ("%u", []),                       // a wildcard would match every name with a "u"
                ("0% u", ["100% Uptime Bot"]),
                ("_", ["snake_case Helper"]),
                ("e_c", ["snake_case Helper"]),
                ("a_e", []),                      // a wildcard would match "snake", "plain agent"…
                ("'", ["O'Reilly Guide"]),
                ("o'r", ["O'Reilly Guide"]),
                ("''", []),
                (#"\"#, [#"Back\slash Tool"#]),
                (#"k\s"#, [#"Back\slash Tool"#]),
                (#"\%"#, []),                      // not "escaped percent" = any "%"
                (#"\_"#, []),
                ("' OR 1=1 --", []),
                ("' OR '1'='1", []),
                ("x'); DROP TABLE agents; --", []),
                ("\"", []),
                ("[a-z]", []),
                ("*", []),
            ]
            for (search, expected) in cases {
                let response = try await server.get("/api/v1/agents?search=\(AgentSeed.encoded(search))")
                #expect(response.status == .ok, "\(search)")
                #expect(AgentSeed.names(response) == expected, "\(search)")
                #expect(response.json["total"] == .number(JSONNumber(expected.count)), "\(search)")
            }
            // Nothing above touched the table.
            #expect(try await server.get("/api/v1/agents").json["total"] == 6)
        }
    }

    @Test(arguments: StoreKind.allCases)
    func everyTagGivenMustMatch(_ kind: StoreKind) async throws {
        try await TestServer.run(kind) { server in
            let creator = try await server.account("carol", role: .creator)
            try await AgentSeed.insert([
                AgentSeed.make("A", creator: creator.id, second: 1, tags: ["ai", "writing"]),
                AgentSeed.make("B", creator: creator.id, second: 2, tags: ["ai"]),
                AgentSeed.make("C", creator: creator.id, second: 3, tags: ["writing", "seo"]),
                AgentSeed.make("D", creator: creator.id, second: 4, tags: ["ai", "writing", "seo"]),
                AgentSeed.make("E", creator: creator.id, second: 5, tags: ["ai", "writing", "seo"], status: .pendingReview),
                AgentSeed.make("F", creator: creator.id, second: 6, tags: ["ai", "ai"]),
            ], on: server)

            let cases: [(String, [String])] = [
                ("tags=ai", ["F", "D", "B", "A"]),
                ("tags=writing", ["D", "C", "A"]),
                ("tags=ai&tags=writing", ["D", "A"]),
                ("tags=writing&tags=ai", ["D", "A"]),
                ("tags=ai&tags=writing&tags=seo", ["D"]),
                ("tags=ai&tags=ai", ["F", "D", "B", "A"]),   // a repeated tag is one condition
                ("tags=ai&tags=nope", []),
                ("tags=nope", []),
                ("tags=wri", []),                            // whole tags, not substrings
                ("tags=ai&tags=seo&category=content&search=d", ["D"]),
            ]
            for (query, expected) in cases {
                let response = try await server.get("/api/v1/agents?\(query)")
                #expect(response.status == .ok, "\(query)")
                #expect(AgentSeed.names(response) == expected, "\(query)")
                #expect(response.json["total"] == .number(JSONNumber(expected.count)), "\(query)")
            }

            let tooMany = (0...10).map { "tags=t\($0)" }.joined(separator: "&")
            let many = try await server.get("/api/v1/agents?\(tooMany)")
            #expect(many.status == .unprocessableContent)
            #expect(many.issueLocations == ["query.tags"])
            let empty = try await server.get("/api/v1/agents?tags=ai&tags=")
            #expect(empty.status == .unprocessableContent)
            #expect(empty.issueLocations == ["query.tags.1"])
        }
    }

    @Test(arguments: StoreKind.allCases)
    func minRatingAndMaxPriceAreInclusiveAndExact(_ kind: StoreKind) async throws {
        try await TestServer.run(kind) { server in
            let creator = try await server.account("carol", role: .creator)
            try await AgentSeed.insert([
                AgentSeed.make("Top", creator: creator.id, second: 1, priceMilli: 10_000, rating: 5.0),
                AgentSeed.make("Good", creator: creator.id, second: 2, priceMilli: 2_000, rating: 4.5),
                AgentSeed.make("Fair", creator: creator.id, second: 3, priceMilli: 2_001, rating: 3.9),
                AgentSeed.make("New", creator: creator.id, second: 4, priceMilli: 1_500, rating: 0),
                AgentSeed.make("Gone", creator: creator.id, second: 5, priceMilli: 1_000, rating: 5.0, status: .inactive),
            ], on: server)

            let cases: [(String, [String])] = [
                ("min_rating=4", ["Good", "Top"]),
                ("min_rating=4.5", ["Good", "Top"]),
                ("min_rating=4.51", ["Top"]),
                ("min_rating=5", ["Top"]),
                ("min_rating=0", ["New", "Fair", "Good", "Top"]),
                ("max_price=2", ["New", "Good"]),
                ("max_price=2.000", ["New", "Good"]),
                ("max_price=2.001", ["New", "Fair", "Good"]),
                ("max_price=1.499", []),
                ("max_price=1.5", ["New"]),
                ("max_price=0", []),
                ("max_price=10000", ["New", "Fair", "Good", "Top"]),
                ("min_rating=4&max_price=2", ["Good"]),
            ]
            for (query, expected) in cases {
                let response = try await server.get("/api/v1/agents?\(query)")
                #expect(response.status == .ok, "\(query)")
                #expect(AgentSeed.names(response) == expected, "\(query)")
            }
        }
    }

    @Test(arguments: StoreKind.allCases)
    func everySortOrder(_ kind: StoreKind) async throws {
        try await TestServer.run(kind) { server in
            let creator = try await server.account("carol", role: .creator)
            try await AgentSeed.insert([
                AgentSeed.make("Alpha", creator: creator.id, second: 1, priceMilli: 5_000, rating: 3.0, totalRuns: 50),
                AgentSeed.make("Bravo", creator: creator.id, second: 2, priceMilli: 1_500, rating: 4.8, totalRuns: 10),
                AgentSeed.make("Charlie", creator: creator.id, second: 3, priceMilli: 20_000, rating: 4.1, totalRuns: 99),
                // 9.999 sorts below 20 as a number (not as text), 10000 above everything.
                AgentSeed.make("Delta", creator: creator.id, second: 4, priceMilli: 9_999, rating: 5.0, totalRuns: 0),
                AgentSeed.make("Echo", creator: creator.id, second: 5, priceMilli: 10_000_000, rating: 2.2, totalRuns: 25),
                AgentSeed.make("Hidden", creator: creator.id, second: 6, priceMilli: 1_000, rating: 5.0, totalRuns: 1_000, status: .inactive),
            ], on: server)

            let newest = ["Echo", "Delta", "Charlie", "Bravo", "Alpha"]
            let cases: [(String, [String])] = [
                ("", newest),
                ("?sort_by=newest", newest),
                ("?sort_by=popular", ["Charlie", "Alpha", "Echo", "Bravo", "Delta"]),
                ("?sort_by=rating", ["Delta", "Bravo", "Charlie", "Alpha", "Echo"]),
                ("?sort_by=price_low", ["Bravo", "Alpha", "Delta", "Charlie", "Echo"]),
                ("?sort_by=price_high", ["Echo", "Charlie", "Delta", "Alpha", "Bravo"]),
            ]
            for (query, expected) in cases {
                let response = try await server.get("/api/v1/agents\(query)")
                #expect(response.status == .ok, "\(query)")
                #expect(AgentSeed.names(response) == expected, "\(query)")
            }
        }
    }

    @Test(arguments: StoreKind.allCases)
    func sortTiesFallBackToNewestThenId(_ kind: StoreKind) async throws {
        try await TestServer.run(kind) { server in
            let creator = try await server.account("carol", role: .creator)
            try await AgentSeed.insert([
                AgentSeed.make("Older", creator: creator.id, second: 1, priceMilli: 3_000, rating: 4.0, totalRuns: 7),
                AgentSeed.make("Newer", creator: creator.id, second: 2, priceMilli: 3_000, rating: 4.0, totalRuns: 7),
            ], on: server)
            for sort in ["popular", "rating", "price_low", "price_high", "newest"] {
                #expect(AgentSeed.names(try await server.get("/api/v1/agents?sort_by=\(sort)")) == ["Newer", "Older"], "\(sort)")
            }
        }
    }

    @Test(arguments: StoreKind.allCases)
    func badQueryParametersAre422WithTheirLocation(_ kind: StoreKind) async throws {
        try await TestServer.run(kind) { server in
            let cases: [(String, [String])] = [
                ("sort_by=created_at", ["query.sort_by"]),   // the plan's default, which its own pattern rejects
                ("sort_by=bogus", ["query.sort_by"]),
                ("sort_by=", ["query.sort_by"]),
                ("sort_by=NEWEST", ["query.sort_by"]),
                ("limit=0", ["query.limit"]),
                ("limit=101", ["query.limit"]),
                ("limit=-1", ["query.limit"]),
                ("limit=abc", ["query.limit"]),
                ("limit=2.5", ["query.limit"]),
                ("limit=99999999999999999999", ["query.limit"]),
                ("skip=-1", ["query.skip"]),
                ("skip=abc", ["query.skip"]),
                ("skip=99999999999999999999", ["query.skip"]),
                ("min_rating=6", ["query.min_rating"]),
                ("min_rating=-0.5", ["query.min_rating"]),
                ("min_rating=high", ["query.min_rating"]),
                ("max_price=abc", ["query.max_price"]),
                ("max_price=-1", ["query.max_price"]),
                ("max_price=1e400", ["query.max_price"]),
                ("category=cooking", ["query.category"]),
                ("limit=0&skip=-1&sort_by=x&min_rating=9", ["query.skip", "query.limit", "query.min_rating", "query.sort_by"]),
            ]
            for (query, expected) in cases {
                for path in ["/api/v1/agents", "/api/v1/agents/"] {
                    let response = try await server.get("\(path)?\(query)")
                    #expect(response.status == .unprocessableContent, "\(query)")
                    #expect(Set(response.issueLocations) == Set(expected), "\(query)")
                    #expect(response.issueLocations.count == expected.count, "\(query)")
                }
            }
            // The boundaries themselves are fine.
            for query in ["limit=1", "limit=100", "skip=0", "min_rating=5", "min_rating=0", "max_price=0", "limit=20.0"] {
                #expect(try await server.get("/api/v1/agents?\(query)").status == .ok, "\(query)")
            }
        }
    }

    @Test(arguments: StoreKind.allCases)
    func paginationEnvelopeAndStablePages(_ kind: StoreKind) async throws {
        try await TestServer.run(kind) { server in
            let creator = try await server.account("carol", role: .creator)
            let empty = try await server.get("/api/v1/agents")
            #expect(empty.json["data"] == [])
            #expect(empty.json["total"] == 0)
            #expect(empty.json["page"] == 1)
            #expect(empty.json["per_page"] == 20)
            #expect(empty.json["total_pages"] == 0)

            // Seven listed agents, all created at the same instant with the same figures, so
            // only the final tie-breaker orders them; plus one that is not listed.
            var agents = (0..<7).map { AgentSeed.make("Same \($0)", creator: creator.id, second: 10, rating: 4, totalRuns: 3) }
            agents.append(AgentSeed.make("Pending", creator: creator.id, second: 11, status: .pendingReview))
            try await AgentSeed.insert(agents, on: server)

            let all = try await server.get("/api/v1/agents")
            #expect(all.json["total"] == 7)
            #expect(all.json["per_page"] == 20)
            #expect(all.json["total_pages"] == 1)
            #expect(AgentSeed.ids(all).count == 7)

            for sort in ["newest", "popular", "rating", "price_low", "price_high"] {
                var seen: [String] = []
                for (skip, page, count) in [(0, 1, 3), (3, 2, 3), (6, 3, 1)] {
                    let response = try await server.get("/api/v1/agents?sort_by=\(sort)&limit=3&skip=\(skip)")
                    #expect(response.status == .ok)
                    #expect(response.json["total"] == 7, "\(sort) \(skip)")
                    #expect(response.json["page"] == .number(JSONNumber(page)), "\(sort) \(skip)")
                    #expect(response.json["per_page"] == 3, "\(sort) \(skip)")
                    #expect(response.json["total_pages"] == 3, "\(sort) \(skip)")
                    #expect(AgentSeed.ids(response).count == count, "\(sort) \(skip)")
                    seen += AgentSeed.ids(response)
                }
                #expect(seen.count == 7, "\(sort)")
                #expect(Set(seen) == Set(AgentSeed.ids(all)), "\(sort): pages overlap or miss agents")
                // Asking again gives the same order.
                let again = try await server.get("/api/v1/agents?sort_by=\(sort)&limit=7")
                #expect(AgentSeed.ids(again) == seen, "\(sort)")
            }

            let past = try await server.get("/api/v1/agents?limit=3&skip=9")
            #expect(past.status == .ok)
            #expect(past.json["data"] == [])
            #expect(past.json["total"] == 7)
            #expect(past.json["page"] == 4)
            let offset = try await server.get("/api/v1/agents?limit=5&skip=2")
            #expect(offset.json["page"] == 1)
            #expect(offset.json["total_pages"] == 2)
            #expect(AgentSeed.ids(offset) == Array(AgentSeed.ids(all)[2..<7]))
            let one = try await server.get("/api/v1/agents/?limit=1&skip=6")
            #expect(one.json["page"] == 7)
            #expect(one.json["total_pages"] == 7)
            #expect(AgentSeed.ids(one) == [AgentSeed.ids(all)[6]])
        }
    }
}
