import BenchSupport
import Foundation

/// An admin, a creator with the trivial agent (approved, bundle uploaded) and a user with
/// enough credits for every run of the benchmark — through the API, and the operator CLI for
/// roles and the credit grant.
enum Seed {
    struct Result: Sendable {
        let agentID: String
        let token: String
    }

    static func run(api: API, agentgrid: String, environment: [String: String], bundle: TrivialAgent.Bundle, credits: Int) async throws -> Result {
        func signUp(_ name: String) async throws -> String {
            let reply = try await api.call(.post, "/api/v1/auth/signup", json: [
                "email": "\(name)@bench.example", "username": name, "full_name": name, "password": "Bench1234x",
            ])
            guard reply.status == .created, let token = reply.json["access_token"] as? String else {
                throw BenchError(message: "signup \(name): \(reply.status) \(reply.text)")
            }
            return token
        }
        let admin = try await signUp("benchadmin"), creator = try await signUp("benchcreator"), user = try await signUp("benchuser")
        try cli(agentgrid, ["users", "set-role", "benchadmin@bench.example", "admin"], environment)
        try cli(agentgrid, ["users", "set-role", "benchcreator@bench.example", "creator"], environment)
        try cli(agentgrid, ["credits", "grant", "benchuser@bench.example", "\(credits)"], environment)
        let created = try await api.call(.post, "/api/v1/agents/", json: [
            "name": "Trivial Agent", "description": "Prints one JSON document and exits.", "category": "development",
            "tags": ["bench"], "price_per_run": 1, "capabilities": ["nothing"],
            "config": ["model": "none", "temperature": 0, "max_tokens": 100, "timeout_seconds": 10, "required_inputs": []],
        ], token: creator)
        guard created.status == .created, let agentID = created.json["id"] as? String else {
            throw BenchError(message: "create agent: \(created.status) \(created.text)")
        }
        let upload = try await api.call(.put, "/api/v1/agents/\(agentID)/bundle", raw: bundle.archive, token: creator,
                                        headers: [.contentType: "application/gzip"])
        guard upload.status == .ok else { throw BenchError(message: "bundle: \(upload.status) \(upload.text)") }
        let approve = try await api.call(.patch, "/api/v1/agents/\(agentID)", json: ["status": "active"], token: admin)
        guard approve.status == .ok else { throw BenchError(message: "approve: \(approve.status) \(approve.text)") }
        return Result(agentID: agentID, token: user)
    }

    static func cli(_ agentgrid: String, _ arguments: [String], _ environment: [String: String]) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: agentgrid)
        process.arguments = arguments
        process.environment = environment
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw BenchError(message: "agentgrid \(arguments.joined(separator: " ")) exited \(process.terminationStatus)") }
    }
}
