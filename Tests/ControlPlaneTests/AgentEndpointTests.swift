import Foundation
import Testing
@testable import ControlPlane

@Suite struct AgentEndpointTests {
    private static func number(_ literal: String) -> JSONValue { .number(JSONNumber(text: literal)) }

    // MARK: Create

    @Test(arguments: StoreKind.allCases)
    func createEchoesEveryFieldAndStoresItExactly(_ kind: StoreKind) async throws {
        try await TestServer.run(kind) { server in
            let creator = try await server.account("carol", role: .creator)
            let config: JSONValue = [
                "model": "claude-3-opus", "temperature": 1.5, "max_tokens": 32000, "timeout_seconds": 300,
                "required_inputs": [
                    ["name": "topic", "type": "string", "required": true],
                    ["name": "depth", "type": "integer", "required": false],
                ],
                "output_schema": ["type": "object", "properties": ["report": ["type": "string"]]],
            ]
            let body: JSONValue = [
                "name": "Deep Researcher", "description": "Researches a topic and writes a cited report.",
                "long_description": "Longer text\nwith lines and ünïcödé — and quotes \"'.", "category": "research",
                "tags": ["research", "reports"], "price_per_run": Self.number("12.345"), "config": config,
                "capabilities": ["web research", "citations"], "limitations": ["English only"], "demo_available": true,
            ]
            let created = try await server.post("/api/v1/agents/", body, token: creator.accessToken)
            #expect(created.status == .created)
            let agent = created.json
            #expect(UUID(uuidString: agent["id"]?.stringValue ?? "") != nil)
            #expect(agent["status"] == "pending_review")
            #expect(agent["creator_id"] == .string(creator.id))
            #expect(agent["name"] == body["name"])
            #expect(agent["description"] == body["description"])
            #expect(agent["long_description"] == body["long_description"])
            #expect(agent["category"] == "research")
            #expect(agent["tags"] == ["research", "reports"])
            #expect(agent["price_per_run"]?.numberValue?.text == "12.345")
            #expect(agent["config"] == config)
            #expect(agent["capabilities"] == ["web research", "citations"])
            #expect(agent["limitations"] == ["English only"])
            #expect(agent["demo_available"] == true)
            #expect(agent["version"] == "1.0.0")
            #expect(agent["rating"] == 0)
            #expect(agent["total_runs"] == 0)
            #expect(agent["total_reviews"] == 0)
            #expect(agent["thumbnail_url"] == .null)
            #expect(agent["created_at"]?.stringValue?.hasSuffix("Z") == true)
            #expect(agent["created_at"] == agent["updated_at"])

            // What was stored reads back identically.
            let id = try #require(agent["id"]?.stringValue)
            let fetched = try await server.get("/api/v1/agents/\(id)", token: creator.accessToken)
            #expect(fetched.status == .ok)
            #expect(fetched.json == agent)
        }
    }

    @Test(arguments: StoreKind.allCases)
    func createTheSampleBodyOfThePlanAndApplyDefaults(_ kind: StoreKind) async throws {
        try await TestServer.run(kind) { server in
            let creator = try await server.account("carol", role: .creator)
            // Exactly the body of the plan's own `test_create_agent` (input type "text" included).
            let plan: JSONValue = [
                "name": "Test Agent", "description": "Test agent description", "category": "content",
                "tags": ["test", "automation"], "price_per_run": 50,
                "config": [
                    "model": "gpt-4", "temperature": 0.7, "max_tokens": 2000, "timeout_seconds": 120,
                    "required_inputs": [["name": "prompt", "type": "text", "required": true]], "output_schema": [:],
                ],
                "capabilities": ["Text generation"], "demo_available": true,
            ]
            let created = try await server.post("/api/v1/agents/", plan, token: creator.accessToken)
            #expect(created.status == .created, "\(created.text)")
            #expect(created.json["name"] == "Test Agent")
            #expect(created.json["price_per_run"] == 50)

            // Optional fields default: no long description or limitations, no demo, an input is a
            // required string, the output schema an empty object.
            var minimal = TestServer.agentBody()
            minimal = AgentSeed.setting("config.required_inputs", to: [["name": "q"]], in: minimal)
            minimal = AgentSeed.setting("config.output_schema", to: nil, in: minimal)
            let defaults = try await server.post("/api/v1/agents", minimal, token: creator.accessToken)
            #expect(defaults.status == .created)
            #expect(defaults.json["long_description"] == .null)
            #expect(defaults.json["limitations"] == .null)
            #expect(defaults.json["demo_available"] == false)
            #expect(defaults.json["config"]?["required_inputs"] == [["name": "q", "type": "string", "required": true]])
            #expect(defaults.json["config"]?["output_schema"] == [:])
            // Explicit nulls for the optional fields read as absent.
            var nulls = TestServer.agentBody()
            for key in ["long_description", "limitations", "demo_available"] { nulls = AgentSeed.setting(key, to: JSONValue.null, in: nulls) }
            let withNulls = try await server.post("/api/v1/agents", nulls, token: creator.accessToken)
            #expect(withNulls.status == .created)
            #expect(withNulls.json["limitations"] == .null)
            #expect(withNulls.json["demo_available"] == false)
        }
    }

    @Test(arguments: StoreKind.allCases)
    func createPriceIsAnExactDecimalInRange(_ kind: StoreKind) async throws {
        try await TestServer.run(kind) { server in
            let creator = try await server.account("carol", role: .creator)
            let accepted: [(String, String)] = [
                ("1", "1"), ("10000", "10000"), ("12.345", "12.345"), ("12.3450", "12.345"), ("9999.999", "9999.999"),
                ("1.001", "1.001"), ("0.001e3", "1"), ("1.5e1", "15"), ("10000.000", "10000"),
            ]
            for (literal, echoed) in accepted {
                let created = try await server.post("/api/v1/agents/", TestServer.agentBody(price: Self.number(literal)), token: creator.accessToken)
                #expect(created.status == .created, "\(literal)")
                #expect(created.json["price_per_run"]?.numberValue?.text == echoed, "\(literal)")
                let id = created.json["id"]?.stringValue ?? "-"
                let stored = try await server.get("/api/v1/agents/\(id)", token: creator.accessToken)
                #expect(stored.json["price_per_run"]?.numberValue?.text == echoed, "\(literal) as stored")
            }

            let rejected: [(JSONValue, String)] = [
                (Self.number("12.3456"), "decimal_max_places"),
                (Self.number("0.0001"), "decimal_max_places"),
                (Self.number("0.5"), "greater_than_equal"),
                (Self.number("0.999"), "greater_than_equal"),
                (Self.number("0"), "greater_than_equal"),
                (Self.number("-5"), "greater_than_equal"),
                (Self.number("10000.001"), "less_than_equal"),
                (Self.number("10001"), "less_than_equal"),
                (Self.number("1e30"), "less_than_equal"),
                (Self.number("-1e30"), "greater_than_equal"),
                ("cheap", "decimal_parsing"),
                ("", "decimal_parsing"),
                (true, "decimal_type"),
                (.null, "decimal_type"),
                ([5], "decimal_type"),
                (["amount": 5], "decimal_type"),
            ]
            for (price, type) in rejected {
                let response = try await server.post("/api/v1/agents/", TestServer.agentBody(price: price), token: creator.accessToken)
                #expect(response.status == .unprocessableContent, "\(price)")
                #expect(response.issueLocations == ["body.price_per_run"], "\(price)")
                #expect(AgentSeed.issueTypes(response) == [type], "\(price)")
            }
            #expect(try await server.get("/api/v1/creators/me/agents", token: creator.accessToken).json["total"]
                == .number(JSONNumber(accepted.count)))
        }
    }

    @Test(arguments: StoreKind.allCases)
    func createNeedsACreatorOrAdmin(_ kind: StoreKind) async throws {
        try await TestServer.run(kind) { server in
            let user = try await server.signUp("ursula")
            let admin = try await server.account("adam", role: .admin)

            let plain = try await server.post("/api/v1/agents/", TestServer.agentBody(), token: user.accessToken)
            #expect(plain.status == .forbidden)
            #expect(plain.detail == "Creator role required")
            // The role is checked before the body: a plain user learns nothing from a bad one.
            let plainBad = try await server.post("/api/v1/agents/", ["name": 1], token: user.accessToken)
            #expect(plainBad.status == .forbidden)

            for token in [nil, "not-a-token", user.refreshToken] as [String?] {
                let response = try await server.post("/api/v1/agents/", TestServer.agentBody(), token: token)
                #expect(response.status == .unauthorized)
                #expect(response.headers[.wwwAuthenticate] == "Bearer")
            }

            let byAdmin = try await server.post("/api/v1/agents", TestServer.agentBody(), token: admin.accessToken)
            #expect(byAdmin.status == .created)
            #expect(byAdmin.json["status"] == "pending_review")

            // Becoming a creator takes effect at once.
            #expect(try await server.post("/api/v1/users/me/creator", token: user.accessToken).status == .ok)
            #expect(try await server.post("/api/v1/agents/", TestServer.agentBody(), token: user.accessToken).status == .created)
            #expect(try await server.get("/api/v1/agents").json["total"] == 0)
        }
    }

    @Test(arguments: StoreKind.allCases)
    func createValidatesEveryField(_ kind: StoreKind) async throws {
        try await TestServer.run(kind) { server in
            let creator = try await server.account("carol", role: .creator)
            let long = { (count: Int) in JSONValue.string(String(repeating: "x", count: count)) }
            let tags = { (count: Int) in JSONValue.array((0..<count).map { .string("t\($0)") }) }
            let invalid: [(String, JSONValue?, String, String)] = [
                ("name", "ab", "body.name", "string_too_short"),
                ("name", long(101), "body.name", "string_too_long"),
                ("name", nil, "body.name", "missing"),
                ("name", .null, "body.name", "string_type"),
                ("name", 42, "body.name", "string_type"),
                ("name", "🇫🇷🇩🇪", "body.name", "string_too_short"),
                ("description", "too short", "body.description", "string_too_short"),
                ("description", long(501), "body.description", "string_too_long"),
                ("description", nil, "body.description", "missing"),
                ("long_description", long(5001), "body.long_description", "string_too_long"),
                ("category", "cooking", "body.category", "enum"),
                ("category", "Content", "body.category", "enum"),
                ("category", nil, "body.category", "missing"),
                ("tags", [], "body.tags", "too_short"),
                ("tags", tags(11), "body.tags", "too_long"),
                ("tags", "writing", "body.tags", "list_type"),
                ("tags", ["ok", ""], "body.tags.1", "string_too_short"),
                ("tags", ["ok", 7], "body.tags.1", "string_type"),
                ("tags", nil, "body.tags", "missing"),
                ("config", nil, "body.config", "missing"),
                ("config", "gpt-4", "body.config", "dict_type"),
                ("config.model", nil, "body.config.model", "missing"),
                ("config.model", "", "body.config.model", "string_too_short"),
                ("config.temperature", -0.1, "body.config.temperature", "greater_than_equal"),
                ("config.temperature", 2.01, "body.config.temperature", "less_than_equal"),
                ("config.temperature", true, "body.config.temperature", "float_type"),
                ("config.temperature", nil, "body.config.temperature", "missing"),
                ("config.max_tokens", 99, "body.config.max_tokens", "greater_than_equal"),
                ("config.max_tokens", 32001, "body.config.max_tokens", "less_than_equal"),
                ("config.max_tokens", true, "body.config.max_tokens", "int_type"),
                ("config.max_tokens", "1000", "body.config.max_tokens", "int_type"),
                ("config.max_tokens", 1000.5, "body.config.max_tokens", "int_from_float"),
                ("config.max_tokens", Self.number("1e30"), "body.config.max_tokens", "less_than_equal"),
                ("config.timeout_seconds", 9, "body.config.timeout_seconds", "greater_than_equal"),
                ("config.timeout_seconds", 301, "body.config.timeout_seconds", "less_than_equal"),
                ("config.timeout_seconds", false, "body.config.timeout_seconds", "int_type"),
                ("config.required_inputs", nil, "body.config.required_inputs", "missing"),
                ("config.required_inputs", ["name": "x"], "body.config.required_inputs", "list_type"),
                ("config.required_inputs", [["name": "has space"]], "body.config.required_inputs.0.name", "value_error"),
                ("config.required_inputs", [["name": ""]], "body.config.required_inputs.0.name", "string_too_short"),
                ("config.required_inputs", [["name": "a"], ["type": "string"]], "body.config.required_inputs.1.name", "missing"),
                ("config.required_inputs", [["name": "a"], "b"], "body.config.required_inputs.1", "dict_type"),
                ("config.required_inputs", [["name": "a", "type": "colour"]], "body.config.required_inputs.0.type", "enum"),
                ("config.required_inputs", [["name": "a", "required": "yes"]], "body.config.required_inputs.0.required", "bool_type"),
                ("config.required_inputs", [["name": "a"], ["name": "a"]], "body.config.required_inputs", "value_error"),
                ("config.output_schema", [1], "body.config.output_schema", "dict_type"),
                ("capabilities", nil, "body.capabilities", "missing"),
                ("capabilities", [""], "body.capabilities.0", "string_too_short"),
                ("limitations", "none", "body.limitations", "list_type"),
                ("demo_available", "yes", "body.demo_available", "bool_type"),
                ("demo_available", 1, "body.demo_available", "bool_type"),
            ]
            for (path, value, loc, type) in invalid {
                let body = AgentSeed.setting(path, to: value, in: TestServer.agentBody())
                let response = try await server.post("/api/v1/agents/", body, token: creator.accessToken)
                #expect(response.status == .unprocessableContent, "\(path) = \(String(describing: value))")
                #expect(response.issueLocations == [loc], "\(path) = \(String(describing: value))")
                #expect(AgentSeed.issueTypes(response) == [type], "\(path) = \(String(describing: value))")
            }

            let boundaries: [(String, JSONValue)] = [
                ("name", long(3)), ("name", long(100)), ("description", long(10)), ("description", long(500)),
                ("long_description", long(5000)), ("tags", tags(1)), ("tags", tags(10)),
                ("config.temperature", 0), ("config.temperature", 2), ("config.max_tokens", 100),
                ("config.max_tokens", 32000), ("config.max_tokens", Self.number("1000.0")), ("config.timeout_seconds", 10),
                ("config.timeout_seconds", 300), ("capabilities", []), ("limitations", []),
            ]
            for (path, value) in boundaries {
                let response = try await server.post("/api/v1/agents/", AgentSeed.setting(path, to: value, in: TestServer.agentBody()),
                                                      token: creator.accessToken)
                #expect(response.status == .created, "\(path) = \(value): \(response.text)")
            }
            // Lengths count characters, not bytes: three characters are enough, two are not.
            let threeCharacters = AgentSeed.setting("name", to: "é🇫🇷x", in: TestServer.agentBody())
            #expect(try await server.post("/api/v1/agents/", threeCharacters, token: creator.accessToken).status == .created)

            // Nothing invalid was stored.
            let mine = try await server.get("/api/v1/creators/me/agents?limit=100", token: creator.accessToken)
            #expect(mine.json["total"] == .number(JSONNumber(boundaries.count + 1)))
        }
    }

    @Test(arguments: StoreKind.allCases)
    func createReportsEveryIssueAtOnce(_ kind: StoreKind) async throws {
        try await TestServer.run(kind) { server in
            let creator = try await server.account("carol", role: .creator)
            let body: JSONValue = [
                "name": "ab", "description": "short", "category": "cooking", "tags": [], "price_per_run": 0.5,
                "config": [
                    "temperature": 2.5, "max_tokens": 50, "timeout_seconds": 301,
                    "required_inputs": [["name": "bad name"], 5, ["type": "string"]],
                ],
                "demo_available": "no",
            ]
            let response = try await server.post("/api/v1/agents/", body, token: creator.accessToken)
            #expect(response.status == .unprocessableContent)
            let expected = [
                "body.name", "body.description", "body.category", "body.tags", "body.price_per_run",
                "body.config.model", "body.config.temperature", "body.config.max_tokens", "body.config.timeout_seconds",
                "body.config.required_inputs.0.name", "body.config.required_inputs.1", "body.config.required_inputs.2.name",
                "body.capabilities", "body.demo_available",
            ]
            #expect(response.issueLocations.sorted() == expected.sorted())
            for issue in response.json["detail"]?.arrayValue ?? [] {
                #expect(issue["msg"]?.stringValue?.isEmpty == false)
                #expect(issue["type"]?.stringValue?.isEmpty == false)
            }

            // Not JSON objects at all.
            let array = try await server.request(.post, "/api/v1/agents/", json: [1, 2], token: creator.accessToken)
            #expect(array.status == .unprocessableContent)
            #expect(array.issueLocations == ["body"])
            let broken = try await server.request(.post, "/api/v1/agents/", raw: Array(#"{"name": "x","#.utf8), token: creator.accessToken)
            #expect(broken.status == .unprocessableContent)
            #expect(AgentSeed.issueTypes(broken) == ["json_invalid"])
            let empty = try await server.request(.post, "/api/v1/agents/", raw: [], token: creator.accessToken)
            #expect(empty.status == .unprocessableContent)
            #expect(empty.issueLocations == ["body"])
            #expect(try await server.get("/api/v1/creators/me/agents", token: creator.accessToken).json["total"] == 0)
        }
    }

    @Test(arguments: StoreKind.allCases)
    func unknownFieldsAreIgnoredOnCreateAndUpdate(_ kind: StoreKind) async throws {
        try await TestServer.run(kind) { server in
            let creator = try await server.account("carol", role: .creator)
            let other = try await server.account("oscar", role: .creator)
            let chosenID = UUID().uuidString.lowercased()
            var body = TestServer.agentBody()
            let smuggled: [(String, JSONValue)] = [
                ("id", .string(chosenID)), ("status", "active"), ("creator_id", .string(other.id)), ("rating", 5),
                ("total_runs", 1000), ("total_reviews", 50), ("version", "9.9.9"), ("thumbnail_url", "https://evil.example/x.png"),
                ("bundle_hash", "abc"), ("has_bundle", true), ("created_at", "2000-01-01T00:00:00Z"), ("surprise", ["nested": 1]),
                ("config.sandbox_escape", true), ("config.required_inputs", [["name": "text", "extra": "x"]]),
            ]
            for (path, value) in smuggled { body = AgentSeed.setting(path, to: value, in: body) }

            let created = try await server.post("/api/v1/agents/", body, token: creator.accessToken)
            #expect(created.status == .created)
            let id = try #require(created.json["id"]?.stringValue)
            func check(_ agent: JSONValue, _ when: String) {
                #expect(agent["id"] == .string(id), "\(when)")
                #expect(agent["status"] == "pending_review", "\(when)")
                #expect(agent["creator_id"] == .string(creator.id), "\(when)")
                #expect(agent["rating"] == 0, "\(when)")
                #expect(agent["total_runs"] == 0, "\(when)")
                #expect(agent["total_reviews"] == 0, "\(when)")
                #expect(agent["version"] == "1.0.0", "\(when)")
                #expect(agent["thumbnail_url"] == .null, "\(when)")
                #expect(agent["has_bundle"] == false, "\(when)")
                #expect(agent["created_at"] != "2000-01-01T00:00:00Z", "\(when)")
                #expect(agent["surprise"] == nil, "\(when)")
                #expect(agent["bundle_hash"] == nil, "\(when)")
                #expect(agent["config"]?["sandbox_escape"] == nil, "\(when)")
                #expect(agent["config"]?["required_inputs"] == [["name": "text", "type": "string", "required": true]], "\(when)")
            }
            check(created.json, "echoed")
            #expect(id != chosenID)
            check(try await server.get("/api/v1/agents/\(id)", token: creator.accessToken).json, "stored")
            #expect(try await server.get("/api/v1/agents/\(chosenID)", token: creator.accessToken).status == .notFound)

            // The same smuggling on PATCH (status aside: it is a field of PATCH), with a full config.
            var patch: JSONValue = ["description": "A description that was changed.", "config": TestServer.agentBody()["config"]!]
            for (path, value) in smuggled where path != "id" && path != "status" { patch = AgentSeed.setting(path, to: value, in: patch) }
            let updated = try await server.patch("/api/v1/agents/\(id)", patch, token: creator.accessToken)
            #expect(updated.status == .ok)
            #expect(updated.json["description"] == "A description that was changed.")
            check(updated.json, "patched")
            check(try await server.get("/api/v1/agents/\(id)", token: creator.accessToken).json, "stored after patch")
            #expect(try await server.get("/api/v1/creators/me/agents", token: other.accessToken).json["total"] == 0)
        }
    }

    // MARK: Read

    @Test(arguments: StoreKind.allCases)
    func nonActiveAgentsAreVisibleOnlyToOwnerAndAdmins(_ kind: StoreKind) async throws {
        try await TestServer.run(kind) { server in
            let creator = try await server.account("carol", role: .creator)
            let otherCreator = try await server.account("oscar", role: .creator)
            let user = try await server.signUp("ursula")
            let admin = try await server.account("adam", role: .admin)
            let id = try await server.createAgent(as: creator)
            let path = "/api/v1/agents/\(id)"

            func expectHidden(_ status: String) async throws {
                for token in [nil, user.accessToken, otherCreator.accessToken, "garbage-token"] as [String?] {
                    let response = try await server.get(path, token: token)
                    #expect(response.status == .notFound, "\(status) seen by \(token ?? "anonymous")")
                    #expect(response.detail == "Agent not found")
                }
                for token in [creator.accessToken, admin.accessToken] {
                    let response = try await server.get(path, token: token)
                    #expect(response.status == .ok, "\(status)")
                    #expect(response.json["status"] == .string(status))
                }
            }
            try await expectHidden("pending_review")

            try await server.approve(id, admin: admin)
            for token in [nil, user.accessToken, otherCreator.accessToken, creator.accessToken, admin.accessToken, "garbage-token"] as [String?] {
                let response = try await server.get(path, token: token)
                #expect(response.status == .ok)
                #expect(response.json["status"] == "active")
            }

            #expect(try await server.patch(path, ["status": "inactive"], token: creator.accessToken).status == .ok)
            try await expectHidden("inactive")
            #expect(try await server.patch(path, ["status": "rejected"], token: admin.accessToken).status == .ok)
            try await expectHidden("rejected")

            for missing in [UUID().uuidString.lowercased(), UUID().uuidString, "not-a-uuid", "1", "%27%20OR%20%271%27%3D%271", id + "x"] {
                let response = try await server.get("/api/v1/agents/\(missing)", token: admin.accessToken)
                #expect(response.status == .notFound, "\(missing)")
                #expect(response.detail == "Agent not found", "\(missing)")
            }
        }
    }

    // MARK: Update

    @Test(arguments: StoreKind.allCases)
    func ownerUpdatesFieldsAndNullsAreHandled(_ kind: StoreKind) async throws {
        try await TestServer.run(kind) { server in
            let creator = try await server.account("carol", role: .creator)
            var body = TestServer.agentBody(name: "Original Name", tags: ["one", "two"])
            body = AgentSeed.setting("long_description", to: "Some long text.", in: body)
            body = AgentSeed.setting("limitations", to: ["slow"], in: body)
            let id = try await server.createAgent(as: creator, body)
            let path = "/api/v1/agents/\(id)"
            let before = try await server.get(path, token: creator.accessToken).json

            let newConfig: JSONValue = [
                "model": "gpt-3.5-turbo", "temperature": 0, "max_tokens": 100, "timeout_seconds": 10,
                "required_inputs": [["name": "url", "type": "string", "required": true]], "output_schema": [:],
            ]
            let changes: JSONValue = [
                "name": "Renamed Agent", "price_per_run": Self.number("7.125"), "category": "marketing",
                "config": newConfig, "demo_available": true, "capabilities": ["a", "b"],
            ]
            let updated = try await server.patch(path, changes, token: creator.accessToken)
            #expect(updated.status == .ok)
            #expect(updated.json["name"] == "Renamed Agent")
            #expect(updated.json["price_per_run"]?.numberValue?.text == "7.125")
            #expect(updated.json["category"] == "marketing")
            #expect(updated.json["config"] == newConfig)
            #expect(updated.json["demo_available"] == true)
            #expect(updated.json["capabilities"] == ["a", "b"])
            // Untouched fields stay.
            for key in ["description", "long_description", "tags", "limitations", "status", "creator_id", "created_at", "version"] {
                #expect(updated.json[key] == before[key], "\(key)")
            }
            #expect(try await server.get(path, token: creator.accessToken).json == updated.json)

            // null clears the nullable fields and is refused for the others.
            let cleared = try await server.patch(path, ["long_description": .null, "limitations": .null], token: creator.accessToken)
            #expect(cleared.status == .ok)
            #expect(cleared.json["long_description"] == .null)
            #expect(cleared.json["limitations"] == .null)
            #expect(try await server.get(path, token: creator.accessToken).json["long_description"] == .null)

            let nullName = try await server.patch(path, ["name": .null], token: creator.accessToken)
            #expect(nullName.status == .unprocessableContent)
            #expect(nullName.issueLocations == ["body.name"])
            let nulls = try await server.patch(path, ["description": .null, "tags": .null, "price_per_run": .null,
                                                      "config": .null, "status": .null], token: creator.accessToken)
            #expect(nulls.status == .unprocessableContent)
            #expect(Set(nulls.issueLocations) == ["body.description", "body.tags", "body.price_per_run", "body.config", "body.status"])

            // The same rules as create; an invalid PATCH changes nothing.
            let invalid = try await server.patch(path, [
                "name": "Valid New Name", "price_per_run": 0.5, "tags": [], "category": "cooking",
                "config": AgentSeed.setting("max_tokens", to: 99, in: newConfig),
            ], token: creator.accessToken)
            #expect(invalid.status == .unprocessableContent)
            #expect(Set(invalid.issueLocations) == ["body.price_per_run", "body.tags", "body.category", "body.config.max_tokens"])
            let precise = try await server.patch(path, ["price_per_run": Self.number("1.0005")], token: creator.accessToken)
            #expect(AgentSeed.issueTypes(precise) == ["decimal_max_places"])
            #expect(try await server.patch(path, [1], token: creator.accessToken).issueLocations == ["body"])
            #expect(try await server.get(path, token: creator.accessToken).json["name"] == "Renamed Agent")

            // An empty PATCH is fine and changes nothing but updated_at.
            let noop = try await server.patch(path, [:], token: creator.accessToken)
            #expect(noop.status == .ok)
            #expect(noop.json["name"] == "Renamed Agent")
        }
    }

    @Test(arguments: StoreKind.allCases)
    func onlyOwnerOrAdminMayUpdate(_ kind: StoreKind) async throws {
        try await TestServer.run(kind) { server in
            let creator = try await server.account("carol", role: .creator)
            let intruder = try await server.account("mallory", role: .creator)
            let user = try await server.signUp("ursula")
            let admin = try await server.account("adam", role: .admin)
            let active = try await server.createAgent(as: creator, TestServer.agentBody(name: "Active Agent"))
            try await server.approve(active, admin: admin)
            let pending = try await server.createAgent(as: creator, TestServer.agentBody(name: "Pending Agent"))

            let attack: JSONValue = ["name": "Hijacked", "price_per_run": 10000]
            let onActive = try await server.patch("/api/v1/agents/\(active)", attack, token: intruder.accessToken)
            #expect(onActive.status == .forbidden)
            #expect(onActive.detail == "Not authorized to update this agent")
            #expect(try await server.patch("/api/v1/agents/\(active)", attack, token: user.accessToken).status == .forbidden)
            #expect(try await server.patch("/api/v1/agents/\(active)", ["status": "inactive"], token: intruder.accessToken).status == .forbidden)
            // A pending agent does not exist for them.
            let onPending = try await server.patch("/api/v1/agents/\(pending)", attack, token: intruder.accessToken)
            #expect(onPending.status == .notFound)
            #expect(try await server.patch("/api/v1/agents/\(UUID().uuidString.lowercased())", attack, token: intruder.accessToken).status == .notFound)
            for token in [nil, "garbage"] as [String?] {
                let anonymous = try await server.patch("/api/v1/agents/\(active)", attack, token: token)
                #expect(anonymous.status == .unauthorized)
                #expect(anonymous.headers[.wwwAuthenticate] == "Bearer")
            }
            for id in [active, pending] {
                let agent = try await server.get("/api/v1/agents/\(id)", token: creator.accessToken).json
                #expect(agent["name"] != "Hijacked")
                #expect(agent["price_per_run"] == 5)
            }

            // An admin may edit anyone's agent, whatever its status.
            for id in [active, pending] {
                let edited = try await server.patch("/api/v1/agents/\(id)", ["description": "Edited by the moderation team."], token: admin.accessToken)
                #expect(edited.status == .ok)
                #expect(edited.json["description"] == "Edited by the moderation team.")
                #expect(edited.json["creator_id"] == .string(creator.id))
            }
        }
    }

    @Test(arguments: StoreKind.allCases)
    func onlyAnotherAdminMayApproveOrReject(_ kind: StoreKind) async throws {
        try await TestServer.run(kind) { server in
            let creator = try await server.account("carol", role: .creator)
            let admin = try await server.account("adam", role: .admin)
            let otherAdmin = try await server.account("alma", role: .admin)
            let id = try await server.createAgent(as: creator)
            let path = "/api/v1/agents/\(id)"
            func currentStatus(_ token: String) async throws -> JSONValue? { try await server.get(path, token: token).json["status"] }

            // Self-approval, also smuggled along with a legitimate change.
            for target in ["active", "rejected"] {
                let response = try await server.patch(path, ["status": .string(target)], token: creator.accessToken)
                #expect(response.status == .forbidden, "\(target)")
                let combined = try await server.patch(path, ["status": .string(target), "name": "Sneaky Rename"], token: creator.accessToken)
                #expect(combined.status == .forbidden, "\(target)")
            }
            #expect(try await currentStatus(creator.accessToken) == "pending_review")
            #expect(try await server.get(path, token: creator.accessToken).json["name"] != "Sneaky Rename")

            // The owner may withdraw and resubmit.
            #expect(try await server.patch(path, ["status": "inactive"], token: creator.accessToken).json["status"] == "inactive")
            #expect(try await server.patch(path, ["status": "pending_review"], token: creator.accessToken).json["status"] == "pending_review")

            // An admin approves; after withdrawing, the owner cannot reactivate on their own.
            let approved = try await server.patch(path, ["status": "active"], token: admin.accessToken)
            #expect(approved.status == .ok)
            #expect(approved.json["status"] == "active")
            #expect(try await server.patch(path, ["status": "inactive"], token: creator.accessToken).status == .ok)
            #expect(try await server.patch(path, ["status": "active"], token: creator.accessToken).status == .forbidden)
            #expect(try await currentStatus(creator.accessToken) == "inactive")
            #expect(try await server.patch(path, ["status": "rejected"], token: otherAdmin.accessToken).json["status"] == "rejected")
            #expect(try await server.patch(path, ["status": "active"], token: creator.accessToken).status == .forbidden)
            #expect(try await server.patch(path, ["status": "pending_review"], token: creator.accessToken).status == .ok)

            // An admin's own agent needs a second admin.
            let own = try await server.createAgent(as: admin, TestServer.agentBody(name: "Admin Made"))
            for target in ["active", "rejected"] {
                let response = try await server.patch("/api/v1/agents/\(own)", ["status": .string(target)], token: admin.accessToken)
                #expect(response.status == .forbidden, "\(target)")
            }
            #expect(try await server.get("/api/v1/agents/\(own)", token: admin.accessToken).json["status"] == "pending_review")
            #expect(try await server.get("/api/v1/agents/\(own)").status == .notFound)
            #expect(try await server.patch("/api/v1/agents/\(own)", ["status": "active"], token: otherAdmin.accessToken).json["status"] == "active")
            #expect(try await server.get("/api/v1/agents/\(own)").status == .ok)

            let bogus = try await server.patch(path, ["status": "published"], token: admin.accessToken)
            #expect(bogus.status == .unprocessableContent)
            #expect(bogus.issueLocations == ["body.status"])
        }
    }

    @Test(arguments: StoreKind.allCases)
    func updatingTagsChangesTagFiltering(_ kind: StoreKind) async throws {
        try await TestServer.run(kind) { server in
            let creator = try await server.account("carol", role: .creator)
            let admin = try await server.account("adam", role: .admin)
            let id = try await server.createAgent(as: creator, TestServer.agentBody(tags: ["old", "shared"]))
            try await server.approve(id, admin: admin)
            #expect(AgentSeed.ids(try await server.get("/api/v1/agents?tags=old")) == [id])

            let updated = try await server.patch("/api/v1/agents/\(id)", ["tags": ["new", "shared", "fresh"]], token: creator.accessToken)
            #expect(updated.status == .ok)
            #expect(updated.json["tags"] == ["new", "shared", "fresh"])
            #expect(AgentSeed.ids(try await server.get("/api/v1/agents?tags=old")).isEmpty)
            #expect(AgentSeed.ids(try await server.get("/api/v1/agents?tags=old&tags=shared")).isEmpty)
            #expect(AgentSeed.ids(try await server.get("/api/v1/agents?tags=new")) == [id])
            #expect(AgentSeed.ids(try await server.get("/api/v1/agents?tags=new&tags=fresh&tags=shared")) == [id])
            // Editing other fields keeps the tags.
            #expect(try await server.patch("/api/v1/agents/\(id)", ["name": "Another Name"], token: creator.accessToken).status == .ok)
            #expect(AgentSeed.ids(try await server.get("/api/v1/agents?tags=fresh")) == [id])
        }
    }

    // MARK: Delete

    @Test(arguments: StoreKind.allCases)
    func deleteIsASoftDeleteByOwnerOrAdmin(_ kind: StoreKind) async throws {
        try await TestServer.run(kind) { server in
            let creator = try await server.account("carol", role: .creator)
            let intruder = try await server.account("mallory", role: .creator)
            let admin = try await server.account("adam", role: .admin)
            let id = try await server.createAgent(as: creator)
            try await server.approve(id, admin: admin)
            let path = "/api/v1/agents/\(id)"

            let anonymous = try await server.delete(path)
            #expect(anonymous.status == .unauthorized)
            #expect(anonymous.headers[.wwwAuthenticate] == "Bearer")
            let foreign = try await server.delete(path, token: intruder.accessToken)
            #expect(foreign.status == .forbidden)
            #expect(try await server.get(path).json["status"] == "active")

            let deleted = try await server.delete(path, token: creator.accessToken)
            #expect(deleted.status == .noContent)
            #expect(deleted.body.isEmpty)
            #expect(try await server.get(path).status == .notFound)
            #expect(try await server.get(path, token: intruder.accessToken).status == .notFound)
            let owned = try await server.get(path, token: creator.accessToken)
            #expect(owned.status == .ok)
            #expect(owned.json["status"] == "inactive")
            #expect(owned.json["name"] == "Summarizer Pro")
            #expect(try await server.get("/api/v1/agents").json["total"] == 0)
            let mine = try await server.get("/api/v1/creators/me/agents", token: creator.accessToken)
            #expect(AgentSeed.ids(mine) == [id])
            #expect(mine.json["data"]?[0]?["status"] == "inactive")
            // Now hidden, it is not found for others; deleting again is harmless for the owner.
            #expect(try await server.delete(path, token: intruder.accessToken).status == .notFound)
            #expect(try await server.delete(path, token: creator.accessToken).status == .noContent)

            // An admin may delete anyone's agent.
            let other = try await server.createAgent(as: creator, TestServer.agentBody(name: "Second Agent"))
            try await server.approve(other, admin: admin)
            #expect(try await server.delete("/api/v1/agents/\(other)", token: admin.accessToken).status == .noContent)
            #expect(try await server.get("/api/v1/agents/\(other)", token: creator.accessToken).json["status"] == "inactive")
            #expect(try await server.delete("/api/v1/agents/\(UUID().uuidString.lowercased())", token: admin.accessToken).status == .notFound)
        }
    }
}
