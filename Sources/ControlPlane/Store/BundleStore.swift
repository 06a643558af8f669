import Foundation
import SQLKit

/// `agent_bundles`: archives by content hash. Storing the same archive twice is one row.
enum BundleStore {
    static func save(sha256: String, archive: [UInt8], manifest: AgentManifest, in db: any SQLDatabase) async throws {
        try await db.raw("""
            INSERT INTO agent_bundles (sha256, archive, size_bytes, manifest, created_at)
            VALUES (\(bind: sha256), \(bind: Data(archive)), \(bind: Int64(archive.count)), \(bind: manifest.json.serializedString()),
                    \(bind: Timestamp.now()))
            ON CONFLICT (sha256) DO NOTHING
            """).run()
    }

    static func archive(sha256: String, in db: any SQLDatabase) async throws -> [UInt8]? {
        guard let row = try await db.raw("SELECT archive FROM agent_bundles WHERE sha256 = \(bind: sha256)").first() else { return nil }
        return Array(try row.decode(column: "archive", as: Data.self))
    }

    static func manifest(sha256: String, in db: any SQLDatabase) async throws -> AgentManifest? {
        guard let row = try await db.raw("SELECT manifest FROM agent_bundles WHERE sha256 = \(bind: sha256)").first() else { return nil }
        let text = try row.decode(column: "manifest", as: String.self)
        return (try? JSONParser.parse(Array(text.utf8))).flatMap(AgentManifest.init(json:))
    }
}
