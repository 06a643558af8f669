import Foundation
import HTTPTypes
import Testing
@testable import ControlPlane

/// `PUT /api/v1/agents/{id}/bundle`: what is accepted, stored and versioned, and every way a
/// bundle is refused without anything being stored.
@Suite struct BundleUploadTests {
    static let wordCounter: [TarGz.Entry] = [
        .file("agent.yaml", """
            entrypoint: [/bin/sh, main.sh]
            profile: default
            limits: {memory: 128M, timeout: 10s, pids: 16}
            output_schema:
              type: object
              required: [words]
              properties: {words: {type: integer, minimum: 0}}
            """),
        .file("main.sh", "wc -w | tr -d ' ' | sed 's/.*/{\"words\": &}/'\n"),
    ]

    private func upload(_ server: TestServer, _ agentID: String, _ archive: [UInt8], token: String,
                        contentType: String = "application/gzip") async throws -> APIResponse {
        try await server.request(.put, "/api/v1/agents/\(agentID)/bundle", raw: archive, token: token,
                                 headers: [.contentType: contentType])
    }

    private func storedBundles(_ server: TestServer) async throws -> Int64 {
        try await server.store.read { db in
            try await db.raw("SELECT COUNT(*) AS n FROM agent_bundles").first()?.decode(column: "n", as: Int64.self) ?? -1
        }
    }

    @Test(arguments: StoreKind.allCases)
    func aValidBundleIsStoredByHashAndBumpsTheVersionOnce(_ kind: StoreKind) async throws {
        try await TestServer.run(kind) { server in
            let creator = try await server.account("carol", role: .creator)
            let agentID = try #require(try await server.post("/api/v1/agents", TestServer.agentBody(), token: creator.accessToken).json["id"]?.stringValue)
            let archive = try TarGz.make(Self.wordCounter)
            let first = try await upload(server, agentID, archive, token: creator.accessToken)
            #expect(first.status == .ok, "\(first.text)")
            #expect(first.json["version"] == "1.0.1")
            let again = try await upload(server, agentID, archive, token: creator.accessToken)
            #expect(again.json["version"] == "1.0.1")  // the same code is not a new version
            #expect(try await storedBundles(server) == 1)

            let agent = try #require(try await server.store.read { db in try await AgentStore.find(id: agentID, in: db) })
            #expect(agent.bundleHash == BundleInspector.sha256(archive))
            let stored = try await server.store.read { db in try await BundleStore.archive(sha256: agent.bundleHash!, in: db) }
            #expect(stored == archive)
            let manifest = try await server.store.read { db in
                try await db.raw("SELECT manifest FROM agent_bundles").first()?.decode(column: "manifest", as: String.self)
            }
            let parsed = try JSONParser.parse(try #require(manifest))
            #expect(parsed["entrypoint"] == ["/bin/sh", "main.sh"])
            #expect(parsed["limits"] == ["memory_bytes": 134_217_728, "wall_time_ms": 10_000, "pids": 16])
            #expect(parsed["output_schema"]?["properties"]?["words"]?["minimum"] == 0)

            var changed = Self.wordCounter
            changed[1] = .file("main.sh", "echo '{\"words\": 0}'\n")
            let second = try await upload(server, agentID, try TarGz.make(changed), token: creator.accessToken)
            #expect(second.json["version"] == "1.0.2")
            #expect(try await storedBundles(server) == 2)
        }
    }

    @Test(arguments: StoreKind.allCases)
    func onlyTheCreatorUploadsAndOnlyGzip(_ kind: StoreKind) async throws {
        try await TestServer.run(kind) { server in
            let creator = try await server.account("carol", role: .creator)
            let other = try await server.account("dave", role: .creator)
            let admin = try await server.account("root", role: .admin)
            let agentID = try #require(try await server.post("/api/v1/agents", TestServer.agentBody(), token: creator.accessToken).json["id"]?.stringValue)
            let archive = try TarGz.make(Self.wordCounter)
            #expect(try await upload(server, agentID, archive, token: other.accessToken).status == .notFound)  // pending: invisible to others
            #expect(try await upload(server, agentID, archive, token: admin.accessToken).status == .forbidden)
            #expect(try await server.request(.put, "/api/v1/agents/\(agentID)/bundle", raw: archive,
                                             headers: [.contentType: "application/gzip"]).status == .unauthorized)
            let json = try await upload(server, agentID, archive, token: creator.accessToken, contentType: "application/json")
            #expect(json.status == .unsupportedMediaType)
            #expect(try await upload(server, UUID().uuidString.lowercased(), archive, token: creator.accessToken).status == .notFound)
            #expect(try await storedBundles(server) == 0)
        }
    }

    @Test func anOversizedBundleIs413() async throws {
        var settings = TestServer.settings()
        settings.maxBundleBytes = 2_048
        try await TestServer.run(.sqlite, settings: settings) { server in
            let creator = try await server.account("carol", role: .creator)
            let agentID = try #require(try await server.post("/api/v1/agents", TestServer.agentBody(), token: creator.accessToken).json["id"]?.stringValue)
            // Random bytes do not compress: the archive is well over 2 KiB.
            let noise = (0..<8_192).map { _ in String(UnicodeScalar(UInt8.random(in: 97...122))) }.joined()
            let archive = try TarGz.make(Self.wordCounter + [.file("noise.txt", noise)])
            #expect(try await upload(server, agentID, archive, token: creator.accessToken).status == .contentTooLarge)
            #expect(try await storedBundles(server) == 0)
        }
    }

    @Test(arguments: [
        ([.file("main.sh", "true")], "missing agent.yaml"),
        ([.file("agent.yaml", "entrypoint: [/bin/sh, main.sh]\n")], "runs main.sh, which is not a file at the bundle's root"),
        ([.file("agent.yaml", "entrypoint: [run.py]\n")], "entrypoint run.py is not a file"),
        ([.file("agent.yaml", "entrypoint: [/bin/sh, main.sh]\nprofile: gpu\n"), .file("main.sh", "true")], "profile gpu does not exist"),
        ([.file("agent.yaml", "entrypoint: [/bin/sh, main.sh]\nlimits: {memory: 4G}\n"), .file("main.sh", "true")], "of profile default"),
        ([.file("agent.yaml", "entrypoint: [/bin/sh, main.sh]\nlimits: {timeout: soon}\n"), .file("main.sh", "true")], "is not a duration"),
        ([.file("agent.yaml", "entrypoint: [/bin/sh, main.sh]\nlimits: {cpu: 2}\n"), .file("main.sh", "true")], "unknown limit cpu"),
        ([.file("agent.yaml", "entrypoint: [/bin/sh, main.sh]\noutput_schema: {type: string, pattern: x}\n"), .file("main.sh", "true")],
         "the keyword pattern is not supported"),
        ([.file("agent.yaml", "entrypoint: [/bin/sh, main.sh]\nnetwork: true\n"), .file("main.sh", "true")], "unknown key network"),
        ([.file("agent.yaml", "entrypoint: [/bin/sh, main.sh]\n"), .file("main.sh", "true"), .file("../escape", "x")], "climbs out"),
        ([.file("agent.yaml", "entrypoint: [/bin/sh, main.sh]\n"), .file("main.sh", "true"), .file("/etc/cron.d/x", "x")], "absolute path"),
        ([.file("agent.yaml", "entrypoint: [/bin/sh, main.sh]\n"), .file("main.sh", "true"), .symlink("out", target: "../../etc")], "points outside"),
        ([.file("agent.yaml", "entrypoint: [/bin/sh, main.sh]\n"), .file("main.sh", "true"), .device("null")], "not allowed"),
    ] as [([TarGz.Entry], String)])
    func aBadBundleIsRefusedWithItsReasonAndNothingStored(_ entries: [TarGz.Entry], reason: String) async throws {
        try await TestServer.run(.sqlite) { server in
            let creator = try await server.account("carol", role: .creator)
            let agentID = try #require(try await server.post("/api/v1/agents", TestServer.agentBody(), token: creator.accessToken).json["id"]?.stringValue)
            let refused = try await upload(server, agentID, try TarGz.make(entries), token: creator.accessToken)
            #expect(refused.status == .unprocessableContent)
            let message = refused.json["detail"]?[0]?["msg"]?.stringValue ?? ""
            #expect(message.contains(reason), "\(message)")
            #expect(try await storedBundles(server) == 0)
            let agent = try await server.get("/api/v1/agents/\(agentID)", token: creator.accessToken)
            #expect(agent.json["version"] == "1.0.0")
        }
    }

    @Test func garbageIsNotAnArchive() async throws {
        try await TestServer.run(.sqlite) { server in
            let creator = try await server.account("carol", role: .creator)
            let agentID = try #require(try await server.post("/api/v1/agents", TestServer.agentBody(), token: creator.accessToken).json["id"]?.stringValue)
            let refused = try await upload(server, agentID, Array("definitely not gzip".utf8), token: creator.accessToken)
            #expect(refused.status == .unprocessableContent)
            #expect(refused.json["detail"]?[0]?["msg"]?.stringValue?.contains("gzip") == true, "\(refused.text)")
            #expect(try await upload(server, agentID, [], token: creator.accessToken).status == .unprocessableContent)
        }
    }
}
