import Foundation
import HTTPTypes
import Synchronization
import Testing
@testable import ControlPlane

/// Keeps `/api/v1/openapi.json` true: it lists exactly the router's endpoints, it is internally
/// consistent and valid OpenAPI 3.1, and live responses of a realistic flow conform to the
/// schema it declares for their operation and status code.
@Suite struct OpenAPIDocumentTests {
    static let document = OpenAPIDocument.document()
    static let contract = OpenAPIContract(document)

    // MARK: Drift against the router

    @Test func pathsAreExactlyTheRoutersEndpoints() async throws {
        try await TestServer.run(.sqlite) { server in
            let served = server.endpoints.map(\.description)
            #expect(Set(served).count == served.count, "an endpoint is registered twice: \(served.sorted())")
            let documented = Set(Self.contract.operations.map(\.key))
            let undocumented = Set(served).subtracting(documented).sorted()
            let unserved = documented.subtracting(served).sorted()
            #expect(undocumented.isEmpty, "served but missing from the OpenAPI document: \(undocumented)")
            #expect(unserved.isEmpty, "in the OpenAPI document but not served: \(unserved)")

            let response = try await server.get("/api/v1/openapi.json")
            #expect(response.status == .ok)
            #expect(response.headers[.contentType] == "application/json")
            #expect((try? JSONParser.parse(response.body)) == Self.document, "the served document is not OpenAPIDocument.document()")
        }
    }

    // MARK: Internal consistency

    @Test func everyReferenceResolvesAndEveryComponentIsUsed() {
        let validator = SchemaValidator(root: Self.document)
        var references: [String] = []
        Self.collectReferences(Self.document, into: &references)
        #expect(!references.isEmpty)
        for reference in Set(references).sorted() {
            #expect(validator.resolve(reference) != nil, "$ref \(reference) does not resolve")
        }
        for section in ["schemas", "responses", "parameters", "headers"] {
            for name in Self.document["components"]?[section]?.objectValue?.keys ?? [] {
                #expect(references.contains("#/components/\(section)/\(name)"), "components/\(section)/\(name) is never used")
            }
        }
    }

    @Test func operationsAreWellFormed() {
        let declaredTags = Set(Self.document["tags"]?.arrayValue?.compactMap { $0["name"]?.stringValue } ?? [])
        var ids: [String] = []
        for operation in Self.contract.operations {
            let value = operation.value
            let id = value["operationId"]?.stringValue
            #expect(id != nil, "\(operation.key) has no operationId")
            ids += id.map { [$0] } ?? []
            #expect(value["summary"]?.stringValue?.isEmpty == false, "\(operation.key) has no summary")
            let tags = value["tags"]?.arrayValue?.compactMap(\.stringValue) ?? []
            #expect(!tags.isEmpty && tags.allSatisfy(declaredTags.contains), "\(operation.key) tags \(tags) are not declared")
            #expect(value["responses"]?.objectValue?.isEmpty == false, "\(operation.key) has no responses")
            for (code, _) in value["responses"]?.objectValue ?? [:] {
                #expect(Int(code).map { (100...599).contains($0) } == true, "\(operation.key) response key \(code) is not a status code")
            }
            if value["requestBody"] != nil {
                for code in [413, 422] {
                    #expect(Self.contract.response(operation, status: code) != nil, "\(operation.key) reads a body but does not document \(code)")
                }
            }
            if Self.contract.requiresToken(operation) {
                let unauthorized = Self.contract.response(operation, status: 401)
                #expect(unauthorized?["headers"]?["WWW-Authenticate"] != nil, "\(operation.key) needs a token but has no 401 with WWW-Authenticate")
            }
        }
        let duplicates = Dictionary(grouping: ids, by: { $0 }).filter { $0.value.count > 1 }.keys.sorted()
        #expect(duplicates.isEmpty, "operationIds used more than once: \(duplicates)")
    }

    @Test func everyPathParameterIsDeclared() {
        for operation in Self.contract.operations {
            let templated = Set(operation.path.split(separator: "/").filter { $0.hasPrefix("{") && $0.hasSuffix("}") }
                .map { String($0.dropFirst().dropLast()) })
            let parameters = Self.contract.parameters(operation)
            let declared = parameters.filter { $0["in"] == "path" }
            #expect(Set(declared.compactMap { $0["name"]?.stringValue }) == templated,
                    "\(operation.key): path parameters \(declared.compactMap { $0["name"]?.stringValue }) vs template \(templated.sorted())")
            for parameter in declared {
                #expect(parameter["required"] == true, "\(operation.key): path parameter \(parameter["name"] ?? .null) must be required")
            }
            let keys = parameters.map { "\($0["in"]?.stringValue ?? "?") \($0["name"]?.stringValue ?? "?")" }
            #expect(Set(keys).count == keys.count, "\(operation.key) declares a parameter twice: \(keys)")
            for parameter in parameters {
                #expect(parameter["schema"] != nil, "\(operation.key): parameter \(parameter["name"] ?? .null) has no schema")
            }
        }
    }

    /// The validator the conformance check relies on must actually reject things.
    @Test func schemaValidatorRejectsWhatTheDocumentForbids() {
        let v = SchemaValidator(root: Self.document)
        func schema(_ name: String) -> JSONValue { ["$ref": .string("#/components/schemas/\(name)")] }
        #expect(v.errors(["detail": "x"], schema("HTTPError")).isEmpty)
        #expect(!v.errors(["detail": 5], schema("HTTPError")).isEmpty)
        #expect(!v.errors([:], schema("HTTPError")).isEmpty)
        #expect(!v.errors(["detail": []], schema("ValidationError")).isEmpty)
        #expect(v.errors(["detail": [["loc": ["body", "tags", 0], "msg": "m", "type": "t"]]], schema("ValidationError")).isEmpty)

        var agent = TestServer.agentBody().objectValue!
        #expect(v.errors(.object(agent), schema("AgentCreate")).isEmpty)
        agent["price_per_run"] = 12.345
        #expect(v.errors(.object(agent), schema("AgentCreate")).isEmpty)
        agent["price_per_run"] = 1.0005
        #expect(!v.errors(.object(agent), schema("AgentCreate")).isEmpty, "multipleOf 0.001")
        agent["price_per_run"] = 0.5
        #expect(!v.errors(.object(agent), schema("AgentCreate")).isEmpty, "minimum")
        agent["price_per_run"] = 5
        agent["category"] = "cooking"
        #expect(!v.errors(.object(agent), schema("AgentCreate")).isEmpty, "enum")
        agent["category"] = "content"
        agent["config"] = ["model": "m"]
        #expect(!v.errors(.object(agent), schema("AgentCreate")).isEmpty, "nested required")

        #expect(v.errors(["bio": nil, "avatar_url": "/a.png"], schema("ProfileUpdate")).isEmpty)
        #expect(!v.errors(["full_name": nil], schema("ProfileUpdate")).isEmpty, "non-nullable")
        #expect(!v.errors(["avatar_url": "ftp://x"], schema("ProfileUpdate")).isEmpty, "pattern")
        #expect(v.errors(["role": nil, "is_active": nil], schema("AdminUserUpdate")).isEmpty)
        #expect(!v.errors(["role": "root"], schema("AdminUserUpdate")).isEmpty)
        #expect(!v.errors(["user": ["id": "x"]], schema("TokenPair")).isEmpty)
        #expect(!v.errors(1.5, ["type": "integer"]).isEmpty)
        #expect(v.errors(2.0, ["type": "integer"]).isEmpty)
        #expect(!v.errors("x", ["type": "string", "uniqueItems": true]).isEmpty, "unknown keywords are reported")
        #expect(!v.errors("x", ["$ref": "#/components/schemas/Nope"]).isEmpty)
    }

    // MARK: Valid OpenAPI 3.1

    @Test(.enabled(if: PythonTools.hasSpecValidator,
                   "openapi-spec-validator is not installed for python3 (pip install openapi-spec-validator); skipping only this check"))
    func isValidOpenAPI31() throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("agentgrid-openapi-\(UUID().uuidString).json")
        try Data(Self.document.serialized()).write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        let (status, output) = try PythonTools.run(["-m", "openapi_spec_validator", file.path])
        #expect(status == 0, "openapi-spec-validator rejected the document:\n\(output)")
    }

    // MARK: Live conformance

    @Test(arguments: StoreKind.allCases)
    func responsesConformToTheDocument(_ kind: StoreKind) async throws {
        var settings = TestServer.settings()
        settings.maxBodyBytes = 16 * 1024
        settings.maxBundleBytes = 16 * 1024
        try await TestServer.run(kind, settings: settings) { server in
            let api = Conformance(server: server, contract: Self.contract)

            // Health and meta.
            try await api.call(.get, "/health", expect: .ok)
            try await api.call(.get, "/health/ready", expect: .ok)
            try await api.call(.get, "/metrics", expect: .ok)
            try await api.call(.get, "/api/v1/openapi.json", expect: .ok)

            // Auth.
            let signup = try await api.call(.post, "/api/v1/auth/signup", json: [
                "email": "alice@example.com", "username": "alice", "full_name": "Alice Adams", "password": "Passw0rdOK",
            ], expect: .created)
            let alice = try #require(signup.json["access_token"]?.stringValue)
            try await api.call(.post, "/api/v1/auth/signup", json: [
                "email": "alice@example.com", "username": "alice2", "full_name": "Alice Again", "password": "Passw0rdOK",
            ], expect: .badRequest)
            try await api.call(.post, "/api/v1/auth/signup", json: [
                "email": "not-an-email", "username": "ab", "full_name": "", "password": "short",
            ], expect: .unprocessableContent)
            let login = try await api.call(.post, "/api/v1/auth/login", json: ["email": "alice@example.com", "password": "Passw0rdOK"],
                                           expect: .ok)
            let refreshToken = try #require(login.json["refresh_token"]?.stringValue)
            try await api.call(.post, "/api/v1/auth/login", json: ["email": "alice@example.com", "password": "Wr0ngPassword"],
                               expect: .unauthorized)
            try await api.call(.get, "/api/v1/auth/me", token: alice, expect: .ok)
            try await api.call(.get, "/api/v1/auth/me", expect: .unauthorized)
            try await api.call(.get, "/api/v1/auth/me", token: "not-a-jwt", expect: .unauthorized)
            try await api.call(.post, "/api/v1/auth/refresh", json: ["refresh_token": .string(refreshToken)], expect: .ok)
            try await api.call(.post, "/api/v1/auth/refresh", json: ["refresh_token": .string(refreshToken)], expect: .unauthorized)
            try await api.call(.post, "/api/v1/auth/refresh", json: [:], expect: .unprocessableContent)

            // Users and roles.
            try await api.call(.patch, "/api/v1/users/me", json: ["bio": "Builds agents", "avatar_url": "https://example.com/a.png"],
                               token: alice, expect: .ok)
            try await api.call(.patch, "/api/v1/users/me", json: ["bio": nil, "full_name": "Alice B. Adams"], token: alice, expect: .ok)
            try await api.call(.patch, "/api/v1/users/me", json: ["avatar_url": "ftp://example.com/a.png"], token: alice,
                               expect: .unprocessableContent)
            try await api.call(.post, "/api/v1/users/me/creator", token: alice, expect: .ok)
            let bob = try await server.signUp("bob")
            let admin = try await server.account("root", role: .admin)
            try await api.call(.patch, "/api/v1/admin/users/\(bob.id)", json: ["role": "creator"], token: bob.accessToken,
                               expect: .forbidden)
            try await api.call(.patch, "/api/v1/admin/users/\(bob.id)", json: ["role": "user", "is_active": true],
                               token: admin.accessToken, expect: .ok)
            try await api.call(.patch, "/api/v1/admin/users/\(UUID().uuidString.lowercased())", json: ["role": "creator"],
                               token: admin.accessToken, expect: .notFound)
            try await api.call(.patch, "/api/v1/admin/users/\(admin.id)", json: ["role": "user"], token: admin.accessToken,
                               expect: .badRequest)
            try await api.call(.patch, "/api/v1/admin/users/\(bob.id)", json: ["role": "superuser"], token: admin.accessToken,
                               expect: .unprocessableContent)

            // Agents.
            let created = try await api.call(.post, "/api/v1/agents/", json: TestServer.agentBody(), token: alice, expect: .created)
            let agentID = try #require(created.json["id"]?.stringValue)
            try await api.call(.post, "/api/v1/agents/", json: TestServer.agentBody(), token: bob.accessToken, expect: .forbidden)
            try await api.call(.post, "/api/v1/agents", json: TestServer.agentBody(name: "ab", price: 0.0005), token: alice,
                               expect: .unprocessableContent)
            var huge = TestServer.agentBody().objectValue!
            huge["long_description"] = .string(String(repeating: "x", count: 20_000))
            try await api.call(.post, "/api/v1/agents", json: .object(huge), token: alice, expect: .contentTooLarge)
            try await api.call(.post, "/api/v1/agents", raw: Array("{\"name\": ".utf8), token: alice, expect: .unprocessableContent)
            try await api.call(.get, "/api/v1/agents/\(agentID)", expect: .notFound)  // pending: only owner and admins
            try await api.call(.get, "/api/v1/agents/\(agentID)", token: alice, expect: .ok)
            try await api.call(.patch, "/api/v1/agents/\(agentID)", json: ["status": "active"], token: alice, expect: .forbidden)
            try await api.call(.patch, "/api/v1/agents/\(agentID)", json: ["status": "active"], token: admin.accessToken, expect: .ok)
            try await api.call(.patch, "/api/v1/agents/\(agentID)",
                               json: ["description": "Summarizes long documents, better.", "limitations": nil, "price_per_run": 2.5],
                               token: alice, expect: .ok)
            try await api.call(.patch, "/api/v1/agents/\(agentID)", json: ["name": nil], token: alice, expect: .unprocessableContent)
            try await api.call(.patch, "/api/v1/agents/\(agentID)", json: ["name": "Nobody's"], token: bob.accessToken, expect: .forbidden)
            try await api.call(.patch, "/api/v1/agents/\(UUID().uuidString.lowercased())", json: ["name": "Whatever"], token: alice,
                               expect: .notFound)
            let listed = try await api.call(
                .get, "/api/v1/agents/?category=content&tags=writing&sort_by=rating&limit=5&skip=0&min_rating=0&max_price=10.5&search=summ",
                expect: .ok)
            #expect(listed.json["data"]?.arrayValue?.count == 1)
            try await api.call(.get, "/api/v1/agents?limit=0", expect: .unprocessableContent)
            try await api.call(.get, "/api/v1/agents?sort_by=cheapest", expect: .unprocessableContent)
            try await api.call(.get, "/api/v1/agents/\(agentID)", expect: .ok)
            try await api.call(.get, "/api/v1/agents/\(UUID().uuidString.lowercased())", expect: .notFound)

            // Agent code.
            let bundle = try TarGz.make(BundleUploadTests.wordCounter)
            let gzip: HTTPFields = [.contentType: "application/gzip"]
            try await api.call(.put, "/api/v1/agents/\(agentID)/bundle", raw: bundle, token: alice, headers: gzip, expect: .ok)
            try await api.call(.put, "/api/v1/agents/\(agentID)/bundle", raw: Array("not gzip".utf8), token: alice, headers: gzip,
                               expect: .unprocessableContent)
            try await api.call(.put, "/api/v1/agents/\(agentID)/bundle", raw: bundle, token: alice, expect: .unsupportedMediaType)
            try await api.call(.put, "/api/v1/agents/\(agentID)/bundle", raw: bundle, token: bob.accessToken, headers: gzip, expect: .forbidden)
            try await api.call(.put, "/api/v1/agents/\(UUID().uuidString.lowercased())/bundle", raw: bundle, token: alice, headers: gzip,
                               expect: .notFound)
            try await api.call(.put, "/api/v1/agents/\(agentID)/bundle", raw: bundle, headers: gzip, expect: .unauthorized)
            try await api.call(.put, "/api/v1/agents/\(agentID)/bundle", raw: Array(repeating: 0, count: 20_000), token: alice, headers: gzip,
                               expect: .contentTooLarge)

            // Executions (no dispatcher here: runs stay pending; ExecutionLoopTests run them).
            let execute = "/api/v1/agents/\(agentID)/execute"
            let key: HTTPFields = [HTTPField.Name("Idempotency-Key")!: "conformance-1"]
            let run = try await api.call(.post, execute, json: ["inputs": ["text": "one two"]], token: bob.accessToken, headers: key,
                                         expect: .created)
            let runID = try #require(run.json["id"]?.stringValue)
            try await api.call(.post, execute, json: ["inputs": ["text": "one two"]], token: bob.accessToken, headers: key, expect: .created)
            try await api.call(.post, execute, json: ["inputs": ["text": "three"]], token: bob.accessToken, headers: key, expect: .conflict)
            // (A missing required input is a 422 the document cannot know statically: each agent declares its own.)
            try await api.call(.post, execute, json: ["inputs": "text"], token: bob.accessToken, expect: .unprocessableContent)
            try await api.call(.post, execute, json: ["inputs": ["text": "x"]], expect: .unauthorized)
            try await api.call(.post, "/api/v1/agents/\(UUID().uuidString.lowercased())/execute", json: ["inputs": [:]],
                               token: bob.accessToken, expect: .notFound)
            try await api.call(.patch, "/api/v1/agents/\(agentID)", json: ["price_per_run": 500], token: alice, expect: .ok)
            try await api.call(.post, execute, json: ["inputs": ["text": "x"]], token: bob.accessToken, expect: .init(code: 402))
            try await api.call(.patch, "/api/v1/agents/\(agentID)", json: ["price_per_run": 2.5], token: alice, expect: .ok)
            let prompt = try #require(try await api.call(.post, "/api/v1/agents/", json: TestServer.agentBody(name: "Prompt Only"),
                                                         token: alice, expect: .created).json["id"]?.stringValue)
            try await api.call(.patch, "/api/v1/agents/\(prompt)", json: ["status": "active"], token: admin.accessToken, expect: .ok)
            try await api.call(.post, "/api/v1/agents/\(prompt)/execute", json: ["inputs": ["text": "x"]], token: bob.accessToken,
                               expect: .badRequest)
            try await api.call(.get, "/api/v1/executions/?status=pending&agent_id=\(agentID)&limit=5", token: bob.accessToken, expect: .ok)
            try await api.call(.get, "/api/v1/executions?status=finished", token: bob.accessToken, expect: .unprocessableContent)
            try await api.call(.get, "/api/v1/executions/\(runID)", token: bob.accessToken, expect: .ok)
            try await api.call(.get, "/api/v1/executions/\(runID)", token: alice, expect: .notFound)
            try await api.call(.get, "/api/v1/executions/\(runID)/logs", token: bob.accessToken, expect: .ok)
            try await api.call(.get, "/api/v1/executions/\(runID)/logs", token: alice, expect: .notFound)
            try await api.call(.post, "/api/v1/executions/\(runID)/cancel", token: bob.accessToken, expect: .ok)
            try await api.call(.post, "/api/v1/executions/\(runID)/cancel", token: bob.accessToken, expect: .badRequest)
            try await api.call(.post, "/api/v1/executions/\(runID)/cancel", token: alice, expect: .notFound)

            // Creators.
            try await api.call(.get, "/api/v1/creators/me/agents?status=active&limit=10", token: alice, expect: .ok)
            try await api.call(.get, "/api/v1/creators/me/agents", expect: .unauthorized)
            try await api.call(.get, "/api/v1/creators/me/agents?status=gone", token: alice, expect: .unprocessableContent)
            try await api.call(.get, "/api/v1/creators/me/stats", token: alice, expect: .ok)

            // Credits.
            try await api.call(.get, "/api/v1/credits/balance", token: alice, expect: .ok)
            try await api.call(.get, "/api/v1/credits/balance", expect: .unauthorized)
            try await api.call(.get, "/api/v1/credits/transactions?type=purchase&limit=5", token: alice, expect: .ok)
            try await api.call(.get, "/api/v1/credits/transactions?type=gift", token: alice, expect: .unprocessableContent)

            // Withdrawing an agent.
            try await api.call(.delete, "/api/v1/agents/\(agentID)", token: bob.accessToken, expect: .forbidden)
            try await api.call(.delete, "/api/v1/agents/\(agentID)", token: alice, expect: .noContent)
            try await api.call(.delete, "/api/v1/agents/\(agentID)", expect: .unauthorized)
            try await api.call(.delete, "/api/v1/agents/\(UUID().uuidString.lowercased())", token: alice, expect: .notFound)

            // Deactivation, throttling, logout.
            try await api.call(.patch, "/api/v1/admin/users/\(bob.id)", json: ["is_active": false], token: admin.accessToken, expect: .ok)
            try await api.call(.post, "/api/v1/auth/login", json: ["email": .string(bob.email), "password": .string(bob.password)],
                               expect: .forbidden)
            for _ in 0..<5 {
                try await api.call(.post, "/api/v1/auth/login", json: ["email": "ghost@example.com", "password": "Guess1234"],
                                   expect: .unauthorized)
            }
            try await api.call(.post, "/api/v1/auth/login", json: ["email": "ghost@example.com", "password": "Guess1234"],
                               expect: .tooManyRequests)
            try await api.call(.post, "/api/v1/auth/logout", token: alice, expect: .ok)
            try await api.call(.post, "/api/v1/auth/logout", expect: .unauthorized)

            let missed = Set(Self.contract.operations.map(\.key)).subtracting(api.covered).sorted()
            #expect(missed.isEmpty, "the conformance flow does not exercise: \(missed)")
        }
    }

    // MARK: Helpers

    static func collectReferences(_ value: JSONValue, into out: inout [String]) {
        switch value {
        case .object(let object):
            for (key, member) in object {
                if key == "$ref", let reference = member.stringValue { out.append(reference) } else { collectReferences(member, into: &out) }
            }
        case .array(let items):
            for item in items { collectReferences(item, into: &out) }
        default:
            break
        }
    }
}

// MARK: - Reading the document

/// The document's operations and lookups into them, `$ref`s followed.
struct OpenAPIContract: Sendable {
    struct Operation: Sendable {
        let method: String  // "GET"
        let path: String    // "/api/v1/agents/{agent_id}"
        let value: JSONValue
        var key: String { "\(method) \(path)" }
    }

    static let methods = ["get", "put", "post", "delete", "options", "head", "patch", "trace"]

    let document: JSONValue
    let operations: [Operation]
    let validator: SchemaValidator

    init(_ document: JSONValue) {
        self.document = document
        validator = SchemaValidator(root: document)
        var operations: [Operation] = []
        for (path, item) in document["paths"]?.objectValue ?? [:] {
            for (method, value) in item.objectValue ?? [:] where Self.methods.contains(method) {
                operations.append(Operation(method: method.uppercased(), path: path, value: value))
            }
        }
        self.operations = operations
    }

    /// Follows `$ref` chains.
    func dereference(_ value: JSONValue) -> JSONValue? {
        var current = value
        for _ in 0..<16 {
            guard let reference = current["$ref"]?.stringValue else { return current }
            guard let target = validator.resolve(reference) else { return nil }
            current = target
        }
        return nil
    }

    func parameters(_ operation: Operation) -> [JSONValue] {
        let shared = document["paths"]?[operation.path]?["parameters"]?.arrayValue ?? []
        return (shared + (operation.value["parameters"]?.arrayValue ?? [])).compactMap(dereference)
    }

    func response(_ operation: Operation, status: Int) -> JSONValue? {
        operation.value["responses"]?[String(status)].flatMap(dereference)
    }

    func requiresToken(_ operation: Operation) -> Bool {
        guard let requirements = operation.value["security"]?.arrayValue else { return false }
        return !requirements.isEmpty && !requirements.contains(where: { $0.objectValue?.isEmpty == true })
    }

    /// The operation a concrete request path names: literal segments beat `{parameters}`; a
    /// trailing slash is the same path.
    func operation(method: String, path: String) -> Operation? {
        let segments = path.split(separator: "/").map(String.init)
        var best: (Operation, Int)?
        for operation in operations where operation.method == method {
            let template = operation.path.split(separator: "/").map(String.init)
            guard template.count == segments.count else { continue }
            var literals = 0
            let matches = zip(template, segments).allSatisfy { t, s in
                if t.hasPrefix("{") && t.hasSuffix("}") { return !s.isEmpty }
                literals += 1
                return t == s
            }
            if matches, literals > (best?.1 ?? -1) { best = (operation, literals) }
        }
        return best?.0
    }
}

// MARK: - Checking live traffic

/// Sends requests through the test server and checks each exchange against the document:
/// the path and status are documented for the operation, the body and required headers match
/// the declared response, and the request itself (query and body) satisfies the declared
/// parameters and request body when the server accepted it — and breaks them when the server
/// answered 422 for it.
final class Conformance: Sendable {
    let server: TestServer
    let contract: OpenAPIContract
    private let seen = Mutex<Set<String>>([])

    init(server: TestServer, contract: OpenAPIContract) {
        self.server = server
        self.contract = contract
    }

    /// The operations exercised so far.
    var covered: Set<String> { seen.withLock { $0 } }

    @discardableResult
    func call(_ method: HTTPRequest.Method, _ uri: String, json: JSONValue? = nil, raw: [UInt8]? = nil, token: String? = nil,
              headers: HTTPFields = [:],
              expect expected: HTTPResponse.Status, sourceLocation: SourceLocation = #_sourceLocation) async throws -> APIResponse {
        let response = try await server.request(method, uri, json: json, raw: raw, token: token, headers: headers)
        #expect(response.status == expected, "\(method) \(uri): \(response.text)", sourceLocation: sourceLocation)

        let parts = uri.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)
        let path = String(parts[0])
        guard let operation = contract.operation(method: method.rawValue, path: path) else {
            Issue.record("\(method) \(path) matches no operation of the OpenAPI document", sourceLocation: sourceLocation)
            return response
        }
        _ = seen.withLock { $0.insert(operation.key) }
        let label = "\(operation.key) → \(response.status.code)"
        let issueLocs = response.status == .unprocessableContent
            ? (response.json["detail"]?.arrayValue ?? []).compactMap { $0["loc"]?[0]?.stringValue } : []

        // The request, against what the document says the operation accepts.
        let queryErrors = checkQuery(operation, parts.count > 1 ? String(parts[1]) : "", label, sourceLocation)
        if (200..<300).contains(response.status.code) {
            #expect(queryErrors.isEmpty, "\(label): the server accepted a query the document rejects: \(queryErrors)",
                    sourceLocation: sourceLocation)
        } else if issueLocs.contains("query") {
            #expect(!queryErrors.isEmpty, "\(label): the server rejected a query the document accepts", sourceLocation: sourceLocation)
        }
        if let json {
            if let schema = operation.value["requestBody"]?["content"]?["application/json"]?["schema"] {
                let bodyErrors = contract.validator.errors(json, schema, at: "body")
                if (200..<300).contains(response.status.code) {
                    #expect(bodyErrors.isEmpty, "\(label): the server accepted a body the document rejects: \(bodyErrors)",
                            sourceLocation: sourceLocation)
                } else if issueLocs.contains("body") {
                    #expect(!bodyErrors.isEmpty, "\(label): the server rejected a body the document accepts: \(json.serializedString())",
                            sourceLocation: sourceLocation)
                }
            } else {
                Issue.record("\(operation.key) documents no request body, yet the test sends one", sourceLocation: sourceLocation)
            }
        }

        // The response, against what the document declares for this status.
        guard let declared = contract.response(operation, status: Int(response.status.code)) else {
            Issue.record("\(label): status \(response.status.code) is not documented for \(operation.key): \(response.text)",
                         sourceLocation: sourceLocation)
            return response
        }
        for (name, header) in declared["headers"]?.objectValue ?? [:] {
            guard let header = contract.dereference(header), header["required"] == true else { continue }
            guard let fieldName = HTTPField.Name(name), let value = response.headers[fieldName] else {
                Issue.record("\(label): required header \(name) is missing", sourceLocation: sourceLocation)
                continue
            }
            if let schema = header["schema"] {
                let errors = contract.validator.errors(Self.coerce(value, to: schema), schema, at: name)
                #expect(errors.isEmpty, "\(label): \(errors)", sourceLocation: sourceLocation)
            }
        }
        guard let content = declared["content"]?.objectValue else {
            #expect(response.body.isEmpty, "\(label): documented without content but has a body: \(response.text)",
                    sourceLocation: sourceLocation)
            return response
        }
        let mediaType = response.headers[.contentType]?.split(separator: ";").first.map {
            $0.trimmingCharacters(in: .whitespaces).lowercased()
        } ?? ""
        guard let media = content[mediaType] else {
            Issue.record("\(label): Content-Type \(mediaType) is not among the documented \(content.keys)", sourceLocation: sourceLocation)
            return response
        }
        guard let schema = media["schema"] else { return response }
        if mediaType == "application/json" {
            guard let body = try? JSONParser.parse(response.body) else {
                Issue.record("\(label): the body is not JSON: \(response.text)", sourceLocation: sourceLocation)
                return response
            }
            let errors = contract.validator.errors(body, schema)
            #expect(errors.isEmpty, "\(label): the body does not match the documented schema: \(errors)\n\(response.text)",
                    sourceLocation: sourceLocation)
        } else {
            let errors = contract.validator.errors(.string(response.text), schema)
            #expect(errors.isEmpty, "\(label): \(errors)", sourceLocation: sourceLocation)
        }
        return response
    }

    /// Every query parameter sent must be declared; returns where the sent values break the
    /// declared schemas (arrays collect every occurrence, scalars take the last, as the server does).
    private func checkQuery(_ operation: OpenAPIContract.Operation, _ query: String, _ label: String,
                            _ sourceLocation: SourceLocation) -> [String] {
        let pairs: [(String, String)] = query.split(separator: "&").map { pair in
            let kv = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            return (QueryString.decode(kv[0]), kv.count > 1 ? QueryString.decode(kv[1]) : "")
        }
        let declared = contract.parameters(operation).filter { $0["in"] == "query" }
        let names = Set(declared.compactMap { $0["name"]?.stringValue })
        for (name, _) in pairs where !names.contains(name) {
            Issue.record("\(label): query parameter '\(name)' is not declared", sourceLocation: sourceLocation)
        }
        var errors: [String] = []
        for parameter in declared {
            guard let name = parameter["name"]?.stringValue, let schema = parameter["schema"] else { continue }
            let values = pairs.filter { $0.0 == name }.map(\.1)
            guard let last = values.last else { continue }
            let instance: JSONValue = schema["type"] == "array"
                ? .array(values.map { Self.coerce($0, to: schema["items"] ?? [:]) })
                : Self.coerce(last, to: schema)
            errors += contract.validator.errors(instance, schema, at: "query.\(name)")
        }
        return errors
    }

    /// A text value (query or header) as the JSON its schema's type calls for; left a string
    /// when it does not parse, so the type check reports it.
    static func coerce(_ text: String, to schema: JSONValue) -> JSONValue {
        let types = schema["type"]?.arrayValue?.compactMap(\.stringValue) ?? [schema["type"]?.stringValue].compactMap { $0 }
        if types.contains("integer") || types.contains("number"), let number = JSONNumber.lenient(text) { return .number(number) }
        if types.contains("boolean"), let bool = ["true": true, "false": false][text.lowercased()] { return .bool(bool) }
        return .string(text)
    }
}

// MARK: - python3

enum PythonTools {
    /// `python3 -c "import openapi_spec_validator"` succeeds.
    static let hasSpecValidator: Bool = (try? run(["-c", "import openapi_spec_validator"]).status) == 0

    /// Runs python3 (from PATH) with `arguments`; its exit status and combined output.
    static func run(_ arguments: [String]) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3"] + arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let output = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: output, as: UTF8.self))
    }
}
