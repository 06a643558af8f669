import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import NIOPosix
import Testing
@testable import ControlPlane

/// `agentgrid serve` as a new user runs it: with no AGENTGRID_RUNNERS it starts a runner of its
/// own; killed with SIGKILL mid-run and started again, it adopts that runner, collects the run's
/// result and charges once; stopped with SIGTERM, it stops the runner too.
extension CLITests {
    /// HTTP to a server in another process, on one keep-alive connection.
    struct RemoteAPI {
        let client: TestClient

        func call(_ method: HTTPRequest.Method, _ path: String, json: JSONValue? = nil, raw: [UInt8]? = nil, token: String? = nil,
                  headers: HTTPFields = [:]) async throws -> APIResponse {
            var fields = headers
            if let token { fields[.authorization] = "Bearer \(token)" }
            if json != nil { fields[.contentType] = "application/json" }
            let body = (raw ?? json?.serialized()).map { ByteBuffer(bytes: $0) }
            let response = try await client.execute(.init(path, method: method, headers: fields, body: body))
            return APIResponse(status: response.status, headers: response.headers, body: response.body.map { Array($0.readableBytesView) } ?? [])
        }

        static func with<R>(port: Int, _ body: (RemoteAPI) async throws -> R) async throws -> R {
            let client = TestClient(host: "127.0.0.1", port: port, configuration: .init(timeout: .seconds(30)),
                                    eventLoopGroupProvider: .shared(MultiThreadedEventLoopGroup.singleton))
            client.connect()
            do {
                let result = try await body(RemoteAPI(client: client))
                try? await client.shutdown()
                return result
            } catch {
                try? await client.shutdown()
                throw error
            }
        }
    }

    static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
        }
        guard bound else { throw TestFailure("no free port: errno \(errno)") }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    /// Waits until `/health/ready` says ready (a runner connected) or the process exits.
    static func waitUntilReady(port: Int, _ process: Process, scratch: String) async throws {
        let deadline = ContinuousClock.now + .seconds(30)
        while ContinuousClock.now < deadline, process.isRunning {
            let ready = try? await RemoteAPI.with(port: port) { api in try await api.call(.get, "/health/ready") }
            if ready?.status == .ok, ready?.json["runners"]?["connected"] == 1 { return }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw TestFailure("serve did not become ready: \(read(scratch + "/stderr"))")
    }

    @Test func serveRunsItsOwnRunnerAndAKilledServeLosesNoRunAndChargesOnce() async throws {
        let data = try Self.temporaryDirectory(), scratch1 = try Self.temporaryDirectory(), scratch2 = try Self.temporaryDirectory()
        defer { for path in [data, scratch1, scratch2] { try? FileManager.default.removeItem(atPath: path) } }
        let port = try Self.freePort()
        let environment = Self.cleanEnvironment([
            "AGENTGRID_DATA_DIR": data, "AGENTGRID_PORT": "\(port)", "AGENTGRID_PROFILES": TestServer.profilesDirectory,
            "AGENTGRID_BCRYPT_COST": "4", "AGENTGRID_DISPATCH_LEASE_SECONDS": "2", "AGENTGRID_LOCAL_RUNNER_SLOTS": "2",
        ])
        let first = try Self.start(["serve"], scratch: scratch1, environment: environment)
        defer { if first.isRunning { kill(first.processIdentifier, SIGKILL) } }
        try await Self.waitUntilReady(port: port, first, scratch: scratch1)
        let runnerPID = try #require(pid_t(Self.read(data + "/runner/runner.pid").trimmingCharacters(in: .whitespacesAndNewlines)))
        defer { kill(runnerPID, SIGKILL) }

        let (token, id) = try await RemoteAPI.with(port: port) { api -> (String, String) in
            var tokens: [String: String] = [:]
            for name in ["admin", "creator", "user"] {
                let signup = try await api.call(.post, "/api/v1/auth/signup", json: [
                    "email": .string("\(name)@example.com"), "username": .string(name), "full_name": "Serve Test", "password": "Passw0rdOK",
                ])
                tokens[name] = try #require(signup.json["access_token"]?.stringValue, "\(signup.text)")
            }
            for (name, role) in [("admin", "admin"), ("creator", "creator")] {
                let outcome = try await Self.run(["users", "set-role", "\(name)@example.com", role], environment: environment)
                #expect(outcome.status == 0, "\(outcome.stderr)")
            }
            var body = TestServer.agentBody(price: 4).objectValue!
            body["config"] = ["model": "none", "temperature": 0, "max_tokens": 100, "timeout_seconds": 10, "required_inputs": []]
            let agent = try #require(try await api.call(.post, "/api/v1/agents/", json: .object(body), token: tokens["creator"]).json["id"]?.stringValue)
            let bundle = try TarGz.make([.file("agent.yaml", ExecutionLoopTests.sleeper(2).manifest)] + ExecutionLoopTests.sleeper(2).files)
            let upload = try await api.call(.put, "/api/v1/agents/\(agent)/bundle", raw: bundle, token: tokens["creator"],
                                            headers: [.contentType: "application/gzip"])
            #expect(upload.status == .ok, "\(upload.text)")
            #expect(try await api.call(.patch, "/api/v1/agents/\(agent)", json: ["status": "active"], token: tokens["admin"]).status == .ok)
            let submitted = try await api.call(.post, "/api/v1/agents/\(agent)/execute", json: ["inputs": [:]], token: tokens["user"])
            let id = try #require(submitted.json["id"]?.stringValue, "\(submitted.text)")
            // Until the sandbox is really running it.
            let deadline = ContinuousClock.now + .seconds(20)
            while ContinuousClock.now < deadline {
                let logs = try await api.call(.get, "/api/v1/executions/\(id)/logs", token: tokens["user"])
                if logs.json["logs"]?.stringValue?.contains("started") == true { break }
                try await Task.sleep(for: .milliseconds(20))
            }
            return (tokens["user"]!, id)
        }

        kill(first.processIdentifier, SIGKILL)
        while first.isRunning { try await Task.sleep(for: .milliseconds(10)) }
        #expect(LocalRunner.isAlive(runnerPID), "the runner outlives a killed control plane (its own process group)")

        let second = try Self.start(["serve"], scratch: scratch2, environment: environment)
        defer { if second.isRunning { kill(second.processIdentifier, SIGKILL) } }
        try await Self.waitUntilReady(port: port, second, scratch: scratch2)
        #expect(Self.read(scratch2 + "/stderr").contains("adopting the local runner"))
        let done = try await RemoteAPI.with(port: port) { api -> JSONValue in
            let deadline = ContinuousClock.now + .seconds(30)
            var last: JSONValue = .null
            while ContinuousClock.now < deadline {
                last = try await api.call(.get, "/api/v1/executions/\(id)", token: token).json
                if last["status"] != "running" && last["status"] != "pending" { break }
                try await Task.sleep(for: .milliseconds(50))
            }
            #expect(try await api.call(.get, "/api/v1/credits/balance", token: token).json["balance"] == 96)
            return last
        }
        #expect(done["status"] == "completed" && done["outputs"]?["slept"] == 2, "\(done.serializedString())")

        kill(second.processIdentifier, SIGTERM)
        let outcome = try await Self.finish(second, scratch: scratch2, started: .now)
        #expect(outcome.status == 0, "\(outcome.stderr)")
        let gone = ContinuousClock.now + .seconds(15)
        while LocalRunner.isAlive(runnerPID), ContinuousClock.now < gone { try await Task.sleep(for: .milliseconds(20)) }
        #expect(!LocalRunner.isAlive(runnerPID), "SIGTERM to serve stops the runner it adopted")
        let verify = try await Self.run(["ledger", "verify"], environment: environment)
        #expect(verify.status == 0 && verify.stdout.contains("0 discrepancies"), "\(verify.stdout)\(verify.stderr)")
    }
}
