import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
@testable import ControlPlane

/// A response with its body parsed as JSON when it is JSON.
struct APIResponse: Sendable {
    let status: HTTPResponse.Status
    let headers: HTTPFields
    let body: [UInt8]

    var json: JSONValue { (try? JSONParser.parse(body)) ?? .null }
    var text: String { String(decoding: body, as: UTF8.self) }
    /// `detail` of an error body, when it is a message.
    var detail: String? { json["detail"]?.stringValue }
    /// The `loc` paths of a 422 body, joined with dots: `body.config.max_tokens`.
    var issueLocations: [String] {
        json["detail"]?.arrayValue?.compactMap { issue in
            issue["loc"]?.arrayValue?.map { $0.stringValue ?? $0.numberValue?.text ?? "?" }.joined(separator: ".")
        } ?? []
    }
}

/// The control plane served over real HTTP on loopback, on a fresh store of the given kind.
struct TestServer: Sendable {
    let client: any TestClientProtocol
    let services: ControlPlaneServices
    let endpoints: [Endpoint]

    var store: Store { services.store }
    var port: Int { client.port ?? 0 }

    /// The checkout's own profiles/, the set the runner serves.
    static let profilesDirectory = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("profiles").path

    /// Loaded once for the whole run, as `serve` loads it once at start.
    static let profileCatalog = Result { try ProfileCatalog.load(directory: profilesDirectory) }

    static func settings() -> ControlPlaneSettings {
        var settings = ControlPlaneSettings()
        settings.bcryptCost = 4  // the tests exercise the rules, not the work factor
        return settings
    }

    static func run<R: Sendable>(
        _ kind: StoreKind, settings: ControlPlaneSettings = TestServer.settings(),
        accessTokenLifetime: TimeInterval = 900,
        keys: [TokenService.SigningKey] = [.init(id: "test-key", secret: Array("0123456789abcdef0123456789abcdef".utf8))],
        _ body: @Sendable (TestServer) async throws -> R
    ) async throws -> R {
        try await kind.withStore { store, _ in
            var logger = Logger(label: "agentgrid-test")
            logger.logLevel = .error
            let tokens = await TokenService(keys: keys, accessTokenLifetime: accessTokenLifetime, refreshTokenLifetime: 86_400)
            let services = try await ControlPlaneServices(store: store, tokens: tokens, settings: settings,
                                                          profiles: try TestServer.profileCatalog.get(), logger: logger)
            let (router, endpoints) = ControlPlaneApp.router(services: services)
            let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)), logger: logger)
            return try await app.test(.live) { client in
                try await body(TestServer(client: client, services: services, endpoints: endpoints))
            }
        }
    }

    // MARK: Requests

    func request(_ method: HTTPRequest.Method, _ path: String, json: JSONValue? = nil, raw: [UInt8]? = nil,
                 token: String? = nil, headers: HTTPFields = [:]) async throws -> APIResponse {
        var fields = headers
        if let token { fields[.authorization] = "Bearer \(token)" }
        var body: ByteBuffer?
        if let bytes = raw ?? json?.serialized() {
            body = ByteBuffer(bytes: bytes)
            if fields[.contentType] == nil { fields[.contentType] = "application/json" }
        }
        let response = try await client.executeRequest(uri: path, method: method, headers: fields, body: body)
        return APIResponse(status: response.status, headers: response.headers, body: Array(response.body.readableBytesView))
    }

    func get(_ path: String, token: String? = nil) async throws -> APIResponse { try await request(.get, path, token: token) }
    func post(_ path: String, _ json: JSONValue? = nil, token: String? = nil) async throws -> APIResponse {
        try await request(.post, path, json: json, token: token)
    }
    func patch(_ path: String, _ json: JSONValue, token: String? = nil) async throws -> APIResponse {
        try await request(.patch, path, json: json, token: token)
    }
    func delete(_ path: String, token: String? = nil) async throws -> APIResponse { try await request(.delete, path, token: token) }

    // MARK: Fixtures

    struct Account: Sendable {
        let id: String
        let email: String
        let password: String
        let accessToken: String
        let refreshToken: String
    }

    /// Signs a user up through the API (every account starts as `user`).
    func signUp(_ name: String, password: String = "Passw0rdOK") async throws -> Account {
        let email = "\(name)@example.com"
        let response = try await post("/api/v1/auth/signup", [
            "email": .string(email), "username": .string(name), "full_name": .string("User \(name)"), "password": .string(password),
        ])
        guard response.status == .created, let id = response.json["user"]?["id"]?.stringValue else {
            throw TestFailure("signup of \(name) failed: \(response.status) \(response.text)")
        }
        return Account(id: id, email: email, password: password,
                       accessToken: response.json["access_token"]!.stringValue!, refreshToken: response.json["refresh_token"]!.stringValue!)
    }

    /// A user promoted through the store, as `agentgrid users set-role` does.
    func account(_ name: String, role: Role) async throws -> Account {
        let account = try await signUp(name)
        try await store.transaction { db in try await UserStore.setRole(id: account.id, role: role, in: db) }
        return account
    }

    static func agentBody(name: String = "Summarizer Pro", category: String = "content", tags: [String] = ["writing"],
                          price: JSONValue = 5) -> JSONValue {
        [
            "name": .string(name), "description": "Summarizes long documents into short briefs.",
            "category": .string(category), "tags": .array(tags.map(JSONValue.string)), "price_per_run": price,
            "config": [
                "model": "gpt-4", "temperature": 0.7, "max_tokens": 1000, "timeout_seconds": 60,
                "required_inputs": [["name": "text", "type": "string", "required": true]],
                "output_schema": ["type": "object"],
            ],
            "capabilities": ["summaries"],
        ]
    }

    /// Creates an agent as `creator` and returns its id.
    func createAgent(as creator: Account, _ body: JSONValue = TestServer.agentBody()) async throws -> String {
        let response = try await post("/api/v1/agents/", body, token: creator.accessToken)
        guard response.status == .created, let id = response.json["id"]?.stringValue else {
            throw TestFailure("create agent failed: \(response.status) \(response.text)")
        }
        return id
    }

    /// Approves an agent by a separate admin (a creator may not approve their own).
    func approve(_ agentID: String, admin: Account) async throws {
        let response = try await patch("/api/v1/agents/\(agentID)", ["status": "active"], token: admin.accessToken)
        guard response.status == .ok else { throw TestFailure("approve failed: \(response.status) \(response.text)") }
    }
}

struct TestFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
