import Foundation
import Glibc
import HTTPTypes
import Logging
import Synchronization
@testable import ControlPlane

/// A real `agentgrid-runner serve` for the execution-loop tests, on a socket, state directory
/// and cgroup name of its own; it can be killed with SIGKILL and started again like a crashed one.
final class LoopRunner: @unchecked Sendable {
    private static let counter = Mutex(0)

    let directory: String
    let socket: String
    private let arguments: [String]
    private var process: Process?

    /// `agentgrid-runner` beside the test executable (the build's products directory).
    static let binary = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        .deletingLastPathComponent().appendingPathComponent("agentgrid-runner").path

    init(slots: Int, queue: Int = 8) throws {
        let number = Self.counter.withLock { value -> Int in value += 1; return value }
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("loop-runner-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        socket = directory + "/runner.sock"
        arguments = ["serve", "--socket", socket, "--slots", "\(slots)", "--queue", "\(queue)", "--state-dir", directory + "/state",
                     "--profiles", TestServer.profilesDirectory, "--name", "loop-test-\(getpid())-\(number)", "--grace", "2"]
    }

    var endpoint: RunnerEndpoint { RunnerEndpoint(socketPath: socket) }

    func start() async throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Self.binary)
        process.arguments = arguments
        process.environment = ["PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"]
        process.standardInput = FileHandle.nullDevice
        let log = directory + "/serve.log"
        if !FileManager.default.fileExists(atPath: log) { _ = FileManager.default.createFile(atPath: log, contents: nil) }
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
        handle.seekToEndOfFile()
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
        self.process = process
        let deadline = ContinuousClock.now + .seconds(20)
        while ContinuousClock.now < deadline {
            if connectable() { return }
            guard process.isRunning else { break }
            try await Task.sleep(for: .milliseconds(20))
        }
        throw TestFailure("the runner did not start: \((try? String(contentsOfFile: log, encoding: .utf8)) ?? "")")
    }

    /// SIGKILL, as a crash; waits until it is gone.
    func kill9() async {
        guard let process, process.isRunning else { return }
        kill(process.processIdentifier, SIGKILL)
        while process.isRunning { try? await Task.sleep(for: .milliseconds(10)) }
    }

    func stop() async {
        guard let process, process.isRunning else { return }
        kill(process.processIdentifier, SIGTERM)
        let deadline = ContinuousClock.now + .seconds(10)
        while process.isRunning, ContinuousClock.now < deadline { try? await Task.sleep(for: .milliseconds(20)) }
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
    }

    private func connectable() -> Bool {
        let fd = socket_unix()
        defer { close(fd) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (index, byte) in socket.utf8.prefix(raw.count - 1).enumerated() { raw[index] = byte }
        }
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        } == 0
    }

    private func socket_unix() -> Int32 { Glibc.socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0) }

    deinit {
        if let process, process.isRunning { kill(process.processIdentifier, SIGKILL) }
        try? FileManager.default.removeItem(atPath: directory)
    }
}

/// The whole loop: the API over real HTTP, a dispatcher, and a real runner daemon with real
/// sandboxes. The dispatcher can be stopped and replaced mid-test, as a control-plane restart.
final class Loop: @unchecked Sendable {
    let server: TestServer
    let runner: LoopRunner
    let settings: DispatchSettings
    private(set) var dispatcher: Dispatcher
    private var dispatcherTask: Task<Void, Never>

    static let fastSettings = DispatchSettings(lease: .seconds(2), pollInterval: .milliseconds(200), runnerLostAfter: .seconds(2))

    private init(server: TestServer, runner: LoopRunner, settings: DispatchSettings) {
        self.server = server
        self.runner = runner
        self.settings = settings
        dispatcher = Dispatcher(services: server.services, runners: [runner.endpoint], settings: settings)
        let dispatcher = self.dispatcher
        dispatcherTask = Task { await dispatcher.run() }
    }

    static func run(_ kind: StoreKind, slots: Int = 2, queue: Int = 8, settings: DispatchSettings = Loop.fastSettings,
                    _ body: @Sendable (Loop) async throws -> Void) async throws {
        try await TestServer.run(kind) { server in
            let runner = try LoopRunner(slots: slots, queue: queue)
            try await runner.start()
            let loop = Loop(server: server, runner: runner, settings: settings)
            do {
                try await body(loop)
            } catch {
                await loop.shutdown()
                throw error
            }
            await loop.shutdown()
        }
    }

    /// The control plane going away mid-run (its runs stay `running` under its lease) and a new
    /// one (a new node id) starting on the same store.
    func restartDispatcher() async throws {
        await stopDispatcher()
        try await startDispatcher()
    }

    /// No node dispatches: submits stay pending until `startDispatcher`.
    func stopDispatcher() async {
        dispatcherTask.cancel()
        await dispatcherTask.value
    }

    /// A new node (a new node id) on the same store and runner. It gets services of its own, as a
    /// new process would: a dispatcher's wake-up stream has one consumer and ends with it. The
    /// server's routes still wake the old services, so the new node finds work by its poll.
    func startDispatcher() async throws {
        let services = try await ControlPlaneServices(store: server.store, tokens: server.services.tokens,
                                                      settings: TestServer.settings(), logger: server.services.logger)
        dispatcher = Dispatcher(services: services, runners: [runner.endpoint], settings: settings)
        let dispatcher = self.dispatcher
        dispatcherTask = Task { await dispatcher.run() }
    }

    private func shutdown() async {
        dispatcherTask.cancel()
        await dispatcherTask.value
        await runner.stop()
    }

    // MARK: Fixtures

    struct Cast: Sendable {
        let admin: TestServer.Account
        let creator: TestServer.Account
        let user: TestServer.Account
    }

    func cast(_ tag: String = "") async throws -> Cast {
        Cast(admin: try await server.account("admin\(tag)", role: .admin),
             creator: try await server.account("creator\(tag)", role: .creator),
             user: try await server.signUp("user\(tag)"))
    }

    /// An approved agent whose bundle is `files` plus `agent.yaml` made of `manifest`.
    func agent(_ cast: Cast, manifest: String, files: [TarGz.Entry], price: JSONValue = 2,
               requiredInputs: JSONValue = [], name: String = "Loop Agent") async throws -> String {
        var body = TestServer.agentBody(name: name, price: price)
        if case .object(var object) = body, case .object(var config)? = object["config"] {
            config["required_inputs"] = requiredInputs
            object["config"] = .object(config)
            body = .object(object)
        }
        let id = try await server.createAgent(as: cast.creator, body)
        let archive = try TarGz.make([.file("agent.yaml", manifest)] + files)
        let upload = try await server.request(.put, "/api/v1/agents/\(id)/bundle", raw: archive, token: cast.creator.accessToken,
                                              headers: [.contentType: "application/gzip"])
        guard upload.status == .ok else { throw TestFailure("bundle upload: \(upload.status) \(upload.text)") }
        try await server.approve(id, admin: cast.admin)
        return id
    }

    func submit(_ agentID: String, _ inputs: JSONValue = [:], as account: TestServer.Account,
                key: String? = nil) async throws -> APIResponse {
        var headers: HTTPFields = [:]
        if let key { headers[HTTPField.Name("Idempotency-Key")!] = key }
        return try await server.request(.post, "/api/v1/agents/\(agentID)/execute", json: ["inputs": inputs],
                                        token: account.accessToken, headers: headers)
    }

    /// Polls the execution until `done` holds (default: it finished), up to `seconds`.
    func wait(_ id: String, as account: TestServer.Account, seconds: Double = 30,
              until done: @Sendable (JSONValue) -> Bool = { ["completed", "failed", "cancelled"].contains($0["status"]?.stringValue ?? "") }
    ) async throws -> JSONValue {
        let deadline = ContinuousClock.now + .milliseconds(Int64(seconds * 1_000))
        var last: JSONValue = .null
        while ContinuousClock.now < deadline {
            let response = try await server.get("/api/v1/executions/\(id)", token: account.accessToken)
            last = response.json
            if done(last) { return last }
            try await Task.sleep(for: .milliseconds(20))
        }
        throw TestFailure("execution \(id) did not get there in \(seconds) s; last: \(last.serializedString())")
    }

    /// Waits until the run's live log contains `text`: the sandbox is really running it.
    func waitForLog(_ id: String, contains text: String, as account: TestServer.Account, seconds: Double = 20) async throws {
        let deadline = ContinuousClock.now + .milliseconds(Int64(seconds * 1_000))
        while ContinuousClock.now < deadline {
            let logs = try await server.get("/api/v1/executions/\(id)/logs", token: account.accessToken)
            if logs.json["logs"]?.stringValue?.contains(text) == true { return }
            try await Task.sleep(for: .milliseconds(20))
        }
        throw TestFailure("execution \(id) never logged \(text.debugDescription)")
    }

    func balance(_ account: TestServer.Account) async throws -> Int64? {
        try await server.store.read { db in try await LedgerStore.balance(userID: account.id, in: db) }
    }

    func audit() async throws -> [LedgerAudit.Discrepancy] {
        try await server.store.read { db in try await LedgerAudit.run(in: db) }
    }
}
