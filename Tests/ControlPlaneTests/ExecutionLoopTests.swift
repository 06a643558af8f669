import Foundation
import Testing
@testable import ControlPlane

/// The product's main loop over real HTTP, a real dispatcher and a real runner daemon with real
/// sandboxes, on both stores: submit holds the price, the run happens, the result settles the
/// money exactly once — and every way a run can end otherwise gives the money back.
@Suite struct ExecutionLoopTests {
    /// Echoes its inputs back as `{"echo": …}` and logs a line.
    static let echo: (manifest: String, files: [TarGz.Entry]) = (
        """
        entrypoint: [/bin/sh, main.sh]
        profile: default
        output_schema: {type: object, required: [echo]}
        """,
        [.file("main.sh", "input=$(cat)\necho \"echo agent saw ${#input} bytes\" >&2\nprintf '{\"echo\": %s}\\n' \"$input\"\n")])

    static func sleeper(_ seconds: Int) -> (manifest: String, files: [TarGz.Entry]) {
        ("entrypoint: [/bin/sh, main.sh]\nprofile: default\nlimits: {timeout: 60s}\n",
         [.file("main.sh", "echo started >&2\nsleep \(seconds)\necho '{\"slept\": \(seconds)}'\n")])
    }

    static let undone: @Sendable (JSONValue) -> Bool = { ["completed", "failed", "cancelled"].contains($0["status"]?.stringValue ?? "") }

    @Test(arguments: StoreKind.allCases)
    func aRunCompletesWithOutputsLogsUsageAndTheSplitOfItsPrice(_ kind: StoreKind) async throws {
        try await Loop.run(kind) { loop in
            let cast = try await loop.cast()
            let agent = try await loop.agent(cast, manifest: Self.echo.manifest, files: Self.echo.files, price: 2.5,
                                             requiredInputs: [["name": "text", "type": "string", "required": true]])
            let submitted = try await loop.submit(agent, ["text": "hello world"], as: cast.user)
            #expect(submitted.status == .created, "\(submitted.text)")
            #expect(submitted.json["status"] == "pending")
            #expect(submitted.json["credits_used"] == 2.5)
            let id = try #require(submitted.json["id"]?.stringValue)
            #expect(try await loop.balance(cast.user) == 97_500, "the price is held at submit")

            let done = try await loop.wait(id, as: cast.user)
            #expect(done["status"] == "completed", "\(done.serializedString())")
            #expect(done["outcome"] == "completed")
            #expect(done["outputs"]?["echo"]?["text"] == "hello world")
            #expect(done["error_message"] == .null)
            #expect((done["usage"]?["wall_ms"]?.numberValue?.int64 ?? -1) >= 0)
            #expect((done["usage"]?["peak_memory_bytes"]?.numberValue?.int64 ?? 0) > 0)
            #expect(done["duration_ms"]?.numberValue != nil && done["completed_at"]?.stringValue != nil)
            #expect(done["bundle_hash"]?.stringValue?.count == 64)

            let logs = try await loop.server.get("/api/v1/executions/\(id)/logs", token: cast.user.accessToken)
            #expect(logs.json["logs"]?.stringValue?.contains("echo agent saw") == true, "\(logs.text)")

            #expect(try await loop.balance(cast.user) == 97_500, "completed: the hold is captured, not refunded")
            #expect(try await loop.balance(cast.creator) == 100_000 + 1_750, "70% of 2.5 credits to the creator")
            let platform = try await loop.server.store.read { db in try await LedgerStore.balance(userID: SchemaV3.platformAccountID, in: db) }
            #expect(platform == 750, "the remaining 30% to the platform")
            let agentJSON = try await loop.server.get("/api/v1/agents/\(agent)")
            #expect(agentJSON.json["total_runs"] == 1)
            let ledger = try await loop.server.get("/api/v1/credits/transactions?type=usage", token: cast.user.accessToken)
            #expect(ledger.json["data"]?[0]?["amount"] == -2.5 && ledger.json["data"]?[0]?["reference_id"]?.stringValue == id)
            #expect(try await loop.audit() == [])
        }
    }

    @Test(arguments: StoreKind.allCases)
    func twentyConcurrentSubmitsWithCreditsForThreeAcceptExactlyThree(_ kind: StoreKind) async throws {
        try await Loop.run(kind) { loop in
            let cast = try await loop.cast()
            // 100 welcome credits, 30 a run: room for three, 10 left.
            let agent = try await loop.agent(cast, manifest: Self.echo.manifest, files: Self.echo.files, price: 30)
            let statuses = try await withThrowingTaskGroup(of: Int.self) { group in
                for n in 0..<20 {
                    group.addTask { Int(try await loop.submit(agent, ["n": .number(JSONNumber(n))], as: cast.user).status.code) }
                }
                return try await group.reduce(into: [Int]()) { $0.append($1) }
            }
            #expect(statuses.filter { $0 == 201 }.count == 3, "\(statuses)")
            #expect(statuses.filter { $0 == 402 }.count == 17, "\(statuses)")
            #expect(try await loop.balance(cast.user) == 10_000)
            let list = try await loop.server.get("/api/v1/executions/?limit=100", token: cast.user.accessToken)
            #expect(list.json["total"] == 3)
            for execution in list.json["data"]?.arrayValue ?? [] {
                let done = try await loop.wait(execution["id"]!.stringValue!, as: cast.user)
                #expect(done["status"] == "completed", "\(done.serializedString())")
            }
            #expect(try await loop.audit() == [])
        }
    }

    @Test(arguments: StoreKind.allCases)
    func aRetriedSubmitWithTheSameKeyReturnsTheFirstExecutionAndChargesOnce(_ kind: StoreKind) async throws {
        try await Loop.run(kind) { loop in
            let cast = try await loop.cast()
            let agent = try await loop.agent(cast, manifest: Self.echo.manifest, files: Self.echo.files, price: 5)
            let first = try await loop.submit(agent, ["text": "a"], as: cast.user, key: "retry-42")
            // Concurrent retries too: on PostgreSQL they race on the unique key, not just on a read.
            let retries = try await withThrowingTaskGroup(of: APIResponse.self) { group in
                for _ in 0..<5 { group.addTask { try await loop.submit(agent, ["text": "a"], as: cast.user, key: "retry-42") } }
                return try await group.reduce(into: [APIResponse]()) { $0.append($1) }
            }
            #expect(first.status == .created)
            for retry in retries {
                #expect(retry.status == .created)
                #expect(retry.json["id"] == first.json["id"])
                #expect(retry.headers[.init("Idempotent-Replayed")!] == "true")
            }
            #expect(try await loop.balance(cast.user) == 95_000, "charged once")
            let different = try await loop.submit(agent, ["text": "b"], as: cast.user, key: "retry-42")
            #expect(different.status == .conflict, "\(different.text)")
            let bad = try await loop.submit(agent, ["text": "a"], as: cast.user, key: "has space")
            #expect(bad.status == .badRequest)
            // The key is the caller's own: another user's same key is a new execution.
            let other = try await loop.server.signUp("otheruser")
            let theirs = try await loop.submit(agent, ["text": "a"], as: other, key: "retry-42")
            #expect(theirs.status == .created && theirs.json["id"] != first.json["id"])
            _ = try await loop.wait(first.json["id"]!.stringValue!, as: cast.user)
            _ = try await loop.wait(theirs.json["id"]!.stringValue!, as: other)
            #expect(try await loop.audit() == [])
        }
    }

    @Test(arguments: StoreKind.allCases)
    func cancellingAPendingAndARunningExecutionRefundsBoth(_ kind: StoreKind) async throws {
        // One slot and room for one more in the runner's queue: the dispatcher offers it two
        // runs (one running, one queued there); a third stays pending in the control plane's queue.
        try await Loop.run(kind, slots: 1, queue: 1) { loop in
            let cast = try await loop.cast()
            let slow = Self.sleeper(30)
            let agent = try await loop.agent(cast, manifest: slow.manifest, files: slow.files, price: 1)
            var ids: [String] = []
            for _ in 0..<3 { ids.append(try #require(try await loop.submit(agent, as: cast.user).json["id"]?.stringValue)) }
            _ = try await loop.wait(ids[0], as: cast.user) { $0["status"] == "running" }
            let pending = try await loop.server.get("/api/v1/executions/\(ids[2])", token: cast.user.accessToken)
            #expect(pending.json["status"] == "pending")
            let cancelPending = try await loop.server.post("/api/v1/executions/\(ids[2])/cancel", token: cast.user.accessToken)
            #expect(cancelPending.status == .ok && cancelPending.json["message"] == "Execution cancelled")
            #expect(try await loop.server.get("/api/v1/executions/\(ids[2])", token: cast.user.accessToken).json["outcome"] == "cancelled")

            let started = ContinuousClock.now
            let cancelRunning = try await loop.server.post("/api/v1/executions/\(ids[0])/cancel", token: cast.user.accessToken)
            #expect(cancelRunning.status == .ok, "\(cancelRunning.text)")
            #expect(ContinuousClock.now - started < .seconds(10), "the sandbox stops promptly, not after its 30 s")
            let cancelled = try await loop.wait(ids[0], as: cast.user)
            #expect(cancelled["status"] == "cancelled" && cancelled["outcome"] == "cancelled")
            let again = try await loop.server.post("/api/v1/executions/\(ids[0])/cancel", token: cast.user.accessToken)
            #expect(again.status == .badRequest, "already finished")
            // The second run, queued on the runner, is cancelled there too.
            #expect(try await loop.server.post("/api/v1/executions/\(ids[1])/cancel", token: cast.user.accessToken).status == .ok)
            _ = try await loop.wait(ids[1], as: cast.user)
            #expect(try await loop.balance(cast.user) == 100_000, "all three refunded")
            #expect(try await loop.audit() == [])
        }
    }

    @Test(arguments: StoreKind.allCases)
    func timeoutAndOutOfMemoryRunsFailWithTheirOutcomeAndAreRefunded(_ kind: StoreKind) async throws {
        try await Loop.run(kind) { loop in
            let cast = try await loop.cast()
            let slow = try await loop.agent(cast, manifest: "entrypoint: [/bin/sh, main.sh]\nprofile: default\nlimits: {timeout: 1s}\n",
                                            files: [.file("main.sh", "sleep 20\n")], price: 3, name: "Too Slow")
            let hungry = try await loop.agent(cast, manifest: "entrypoint: [/usr/bin/python3, main.py]\nprofile: python\nlimits: {memory: 32M}\n",
                                              files: [.file("main.py", "x = b'a' * (256 << 20)\nprint('{}')\n")], price: 4, name: "Too Hungry")
            let timeoutID = try #require(try await loop.submit(slow, as: cast.user).json["id"]?.stringValue)
            let oomID = try #require(try await loop.submit(hungry, as: cast.user).json["id"]?.stringValue)
            let timedOut = try await loop.wait(timeoutID, as: cast.user)
            #expect(timedOut["status"] == "failed" && timedOut["outcome"] == "timeout", "\(timedOut.serializedString())")
            #expect(timedOut["error_message"]?.stringValue?.contains("time limit") == true)
            let oom = try await loop.wait(oomID, as: cast.user)
            #expect(oom["status"] == "failed" && oom["outcome"] == "oom", "\(oom.serializedString())")
            #expect(try await loop.balance(cast.user) == 100_000)
            let refunds = try await loop.server.get("/api/v1/credits/transactions?type=refund", token: cast.user.accessToken)
            #expect(refunds.json["total"] == 2)
            #expect(try await loop.audit() == [])
        }
    }

    @Test(arguments: StoreKind.allCases)
    func badOutputFailsTheRunWithAReasonAndRefunds(_ kind: StoreKind) async throws {
        try await Loop.run(kind) { loop in
            let cast = try await loop.cast()
            let notJSON = try await loop.agent(cast, manifest: "entrypoint: [/bin/sh, main.sh]\nprofile: default\n",
                                               files: [.file("main.sh", "echo hello\n")], name: "Not JSON")
            let wrongShape = try await loop.agent(cast, manifest: Self.echo.manifest,
                                                  files: [.file("main.sh", "echo '{\"other\": 1}'\n")], name: "Wrong Shape")
            let exits = try await loop.agent(cast, manifest: "entrypoint: [/bin/sh, main.sh]\nprofile: default\n",
                                             files: [.file("main.sh", "echo broken >&2\nexit 3\n")], name: "Exits Three")
            var ended: [JSONValue] = []
            for agent in [notJSON, wrongShape, exits] {
                let id = try #require(try await loop.submit(agent, as: cast.user).json["id"]?.stringValue)
                ended.append(try await loop.wait(id, as: cast.user))
            }
            #expect(ended.allSatisfy { $0["status"] == "failed" && $0["outcome"] == "failed" })
            #expect(ended[0]["error_message"]?.stringValue?.contains("not valid JSON") == true, "\(ended[0].serializedString())")
            #expect(ended[1]["error_message"]?.stringValue?.contains("output schema") == true, "\(ended[1].serializedString())")
            #expect(ended[2]["error_message"]?.stringValue?.contains("status 3") == true && ended[2]["exit_code"] == 3)
            #expect(try await loop.balance(cast.user) == 100_000)
            #expect(try await loop.audit() == [])
        }
    }

    @Test(arguments: StoreKind.allCases)
    func aRunnerKilledMidRunLosesTheRunAndTheMoneyComesBack(_ kind: StoreKind) async throws {
        try await Loop.run(kind) { loop in
            let cast = try await loop.cast()
            let slow = Self.sleeper(30)
            let agent = try await loop.agent(cast, manifest: slow.manifest, files: slow.files, price: 7)
            let id = try #require(try await loop.submit(agent, as: cast.user).json["id"]?.stringValue)
            try await loop.waitForLog(id, contains: "started", as: cast.user)
            await loop.runner.kill9()
            // Back after a moment, as a supervisor would restart it: it knows nothing of the run.
            try await Task.sleep(for: .milliseconds(300))
            try await loop.runner.start()
            let lost = try await loop.wait(id, as: cast.user, seconds: 20)
            #expect(lost["status"] == "failed" && lost["outcome"] == "runner_lost", "\(lost.serializedString())")
            #expect(try await loop.balance(cast.user) == 100_000)
            // The restarted runner serves the next run.
            let echo = try await loop.agent(cast, manifest: Self.echo.manifest, files: Self.echo.files, name: "After Crash")
            let next = try #require(try await loop.submit(echo, ["x": 1], as: cast.user).json["id"]?.stringValue)
            #expect(try await loop.wait(next, as: cast.user)["status"] == "completed")
            #expect(try await loop.audit() == [])
        }
    }

    @Test(arguments: StoreKind.allCases)
    func aRunnerThatStaysDownLosesItsRunsAfterTheGracePeriod(_ kind: StoreKind) async throws {
        try await Loop.run(kind) { loop in
            let cast = try await loop.cast()
            let slow = Self.sleeper(30)
            let agent = try await loop.agent(cast, manifest: slow.manifest, files: slow.files, price: 7)
            let id = try #require(try await loop.submit(agent, as: cast.user).json["id"]?.stringValue)
            try await loop.waitForLog(id, contains: "started", as: cast.user)
            await loop.runner.kill9()
            let lost = try await loop.wait(id, as: cast.user, seconds: 20)
            #expect(lost["outcome"] == "runner_lost" && lost["error_message"]?.stringValue?.contains("did not come back") == true,
                    "\(lost.serializedString())")
            #expect(try await loop.balance(cast.user) == 100_000)
            #expect(try await loop.audit() == [])
        }
    }

    @Test(arguments: StoreKind.allCases)
    func aControlPlaneRestartMidRunCollectsTheResultAndChargesOnce(_ kind: StoreKind) async throws {
        try await Loop.run(kind) { loop in
            let cast = try await loop.cast()
            let slow = Self.sleeper(2)
            let agent = try await loop.agent(cast, manifest: slow.manifest, files: slow.files, price: 6)
            let id = try #require(try await loop.submit(agent, as: cast.user).json["id"]?.stringValue)
            try await loop.waitForLog(id, contains: "started", as: cast.user)
            try await loop.restartDispatcher()
            let done = try await loop.wait(id, as: cast.user, seconds: 20)
            #expect(done["status"] == "completed" && done["outputs"]?["slept"] == 2, "\(done.serializedString())")
            #expect(try await loop.balance(cast.user) == 94_000)
            #expect(try await loop.balance(cast.creator) == 100_000 + 4_200)
            #expect(try await loop.audit() == [])
        }
    }

    @Test(arguments: StoreKind.allCases)
    func twoControlPlaneNodesWithARunnerEachShareTheQueueAndRunEachExecutionOnce(_ kind: StoreKind) async throws {
        try await Loop.run(kind) { loop in
            let cast = try await loop.cast()
            let napping = ("entrypoint: [/bin/sh, main.sh]\nprofile: default\n", [TarGz.Entry.file("main.sh", "sleep 1\necho '{}'\n")])
            let agent = try await loop.agent(cast, manifest: napping.0, files: napping.1, price: 1)
            // The whole queue is there before either node looks: the first node is woken by each
            // submit in process, and on a loaded host it would take every run as it came.
            await loop.stopDispatcher()
            var ids: [String] = []
            for _ in 0..<16 { ids.append(try #require(try await loop.submit(agent, as: cast.user).json["id"]?.stringValue)) }
            // A second node on the same store: its own services (wake-ups, live events) and runner.
            let other = try await ControlPlaneServices(store: loop.server.store, tokens: loop.server.services.tokens,
                                                       settings: TestServer.settings(), logger: loop.server.services.logger)
            let secondRunner = try LoopRunner(slots: 2)
            try await secondRunner.start()
            let secondNode = Dispatcher(services: other, runners: [secondRunner.endpoint], settings: Loop.fastSettings)
            let node = Task { await secondNode.run() }
            defer { node.cancel() }
            let deadline = ContinuousClock.now + .seconds(20)
            while !(await secondNode.links[0].isConnected), ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(20)) }
            try #require(await secondNode.links[0].isConnected, "the second node's runner link did not connect")
            try await loop.startDispatcher()
            // Each node holds at most 10 runs (2 slots, 8 queued) of 1 s: neither can empty the queue alone before the other connects.
            for id in ids { #expect(try await loop.wait(id, as: cast.user)["status"] == "completed") }
            let runners = try await loop.server.store.read { db in
                try await db.raw("SELECT runner, COUNT(*) AS n FROM executions GROUP BY runner").all()
                    .map { (try $0.decode(column: "runner", as: String.self), try $0.decode(column: "n", as: Int64.self)) }
            }
            #expect(Set(runners.map(\.0)) == [loop.runner.endpoint.name, secondRunner.endpoint.name], "both nodes took work: \(runners)")
            #expect(runners.map(\.1).reduce(0, +) == 16)
            #expect(try await loop.balance(cast.user) == 84_000)
            #expect(try await loop.balance(cast.creator) == 100_000 + 16 * 700)
            #expect(try await loop.audit() == [])
            node.cancel()
            await node.value
            await secondRunner.stop()
        }
    }

    /// One node, two runners of one slot each, four queued runs: each runner gets a slot's worth
    /// per round, so they share the work instead of the first one's queue taking all it can hold.
    @Test(arguments: StoreKind.allCases)
    func oneNodeSpreadsQueuedWorkOverItsRunners(_ kind: StoreKind) async throws {
        try await Loop.run(kind) { loop in
            let cast = try await loop.cast()
            let napping = ("entrypoint: [/bin/sh, main.sh]\nprofile: default\n", [TarGz.Entry.file("main.sh", "sleep 1\necho '{}'\n")])
            let agent = try await loop.agent(cast, manifest: napping.0, files: napping.1, price: 1)
            await loop.stopDispatcher()
            let first = try LoopRunner(slots: 1), second = try LoopRunner(slots: 1)
            try await first.start()
            try await second.start()
            let services = try await ControlPlaneServices(store: loop.server.store, tokens: loop.server.services.tokens,
                                                          settings: TestServer.settings(), logger: loop.server.services.logger)
            // Its wake-ups are its own. On SQLite it finds the runs by its poll, all four at once
            // (the submits land well within the interval after both links are up); on PostgreSQL
            // each submit's NOTIFY wakes it, a run at a time. Either way they must spread.
            var settings = Loop.fastSettings
            settings.pollInterval = .seconds(3)
            let node = Dispatcher(services: services, runners: [first.endpoint, second.endpoint], settings: settings)
            let running = Task { await node.run() }
            for link in await node.links {
                let deadline = ContinuousClock.now + .seconds(20)
                while !(await link.isConnected), ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(20)) }
                try #require(await link.isConnected, "a runner link did not connect")
            }
            var ids: [String] = []
            for _ in 0..<4 { ids.append(try #require(try await loop.submit(agent, as: cast.user).json["id"]?.stringValue)) }
            for id in ids { #expect(try await loop.wait(id, as: cast.user)["status"] == "completed") }
            let runners = try await loop.server.store.read { db in
                try await db.raw("SELECT runner, COUNT(*) AS n FROM executions GROUP BY runner").all()
                    .map { (try $0.decode(column: "runner", as: String.self), try $0.decode(column: "n", as: Int64.self)) }
            }
            #expect(Dictionary(uniqueKeysWithValues: runners) == [first.endpoint.name: 2, second.endpoint.name: 2], "\(runners)")
            #expect(try await loop.audit() == [])
            running.cancel()
            await running.value
            await first.stop()
            await second.stop()
        }
    }

    @Test(arguments: StoreKind.allCases)
    func aResultDeliveredTwiceSettlesOnce(_ kind: StoreKind) async throws {
        try await Loop.run(kind) { loop in
            let cast = try await loop.cast()
            let agent = try await loop.agent(cast, manifest: Self.echo.manifest, files: Self.echo.files, price: 10)
            let id = try #require(try await loop.submit(agent, ["a": 1], as: cast.user).json["id"]?.stringValue)
            _ = try await loop.wait(id, as: cast.user)
            let rows = { try await loop.server.store.read { db in try await LedgerAudit.run(in: db) } }
            // Again as it came, then as a different ending: neither moves money or rewrites the run.
            await loop.dispatcher.deliver(id, record: .init(outcome: "completed", exitCode: 0, profile: "default"), stdout: Array(#"{"echo": {}}"#.utf8))
            await loop.dispatcher.deliver(id, record: .init(outcome: "oom", profile: "default"), stdout: [])
            let after = try await loop.server.get("/api/v1/executions/\(id)", token: cast.user.accessToken)
            #expect(after.json["outcome"] == "completed" && after.json["outputs"]?["echo"]?["a"] == 1)
            #expect(try await loop.balance(cast.user) == 90_000)
            #expect(try await loop.balance(cast.creator) == 107_000)
            #expect(try await rows() == [])
        }
    }

    @Test(arguments: StoreKind.allCases)
    func anotherUsersExecutionIsNotFound(_ kind: StoreKind) async throws {
        try await Loop.run(kind) { loop in
            let cast = try await loop.cast()
            let agent = try await loop.agent(cast, manifest: Self.echo.manifest, files: Self.echo.files)
            let id = try #require(try await loop.submit(agent, as: cast.user).json["id"]?.stringValue)
            let mallory = try await loop.server.signUp("mallory")
            for path in ["/api/v1/executions/\(id)", "/api/v1/executions/\(id)/logs"] {
                let response = try await loop.server.get(path, token: mallory.accessToken)
                #expect(response.status == .notFound && response.detail == "Execution not found")
            }
            #expect(try await loop.server.post("/api/v1/executions/\(id)/cancel", token: mallory.accessToken).status == .notFound)
            #expect(try await loop.server.get("/api/v1/executions/", token: mallory.accessToken).json["total"] == 0)
            #expect(try await loop.server.get("/api/v1/executions/\(id)").status == .unauthorized)
            _ = try await loop.wait(id, as: cast.user)
        }
    }

    @Test(arguments: StoreKind.allCases)
    func theLogStreamFollowsARunUntilItEnds(_ kind: StoreKind) async throws {
        try await Loop.run(kind) { loop in
            let cast = try await loop.cast()
            let agent = try await loop.agent(cast, manifest: "entrypoint: [/bin/sh, main.sh]\nprofile: default\n",
                                             files: [.file("main.sh", "echo first >&2\nsleep 1\necho second >&2\necho '{}'\n")])
            let id = try #require(try await loop.submit(agent, as: cast.user).json["id"]?.stringValue)
            let stream = try await loop.server.request(.get, "/api/v1/executions/\(id)/logs", token: cast.user.accessToken,
                                                       headers: [.accept: "text/event-stream"])
            #expect(stream.headers[.contentType] == "text/event-stream")
            let text = stream.text
            #expect(text.contains("event: log"), "\(text)")
            #expect(text.contains("first") && text.contains("second"), "\(text)")
            #expect(text.contains("event: status\ndata: {\"status\":\"running\"}") || text.contains("data: {\"status\":\"pending\"}"), "\(text)")
            let end = try #require(text.components(separatedBy: "event: end\ndata: ").last?.split(separator: "\n").first)
            #expect(try JSONParser.parse(Array(end.utf8))["status"] == "completed", "\(text)")
            // A finished run's stream answers at once with its stored log and the end.
            let replay = try await loop.server.request(.get, "/api/v1/executions/\(id)/logs", token: cast.user.accessToken,
                                                       headers: [.accept: "text/event-stream"])
            #expect(replay.text.hasPrefix("event: status\ndata: {\"status\":\"completed\"}") && replay.text.contains("second"))
        }
    }

    /// Stderr reaches the control plane in chunks as the runner reads them from the pipe: a
    /// character written in two halves, half a second apart, arrives split across two chunks and
    /// must still be one character in the live stream and in the stored log.
    @Test(arguments: StoreKind.allCases)
    func aCharacterSplitAcrossLogChunksStaysWhole(_ kind: StoreKind) async throws {
        try await Loop.run(kind) { loop in
            let cast = try await loop.cast()
            let agent = try await loop.agent(cast, manifest: "entrypoint: [/bin/sh, main.sh]\nprofile: default\n",
                                             files: [.file("main.sh", "printf 'caf\\303' >&2\nsleep 0.5\nprintf '\\251 \\360\\237' >&2\nsleep 0.5\nprintf '\\231\\202 done\\n' >&2\necho '{}'\n")])
            let id = try #require(try await loop.submit(agent, as: cast.user).json["id"]?.stringValue)
            let stream = try await loop.server.request(.get, "/api/v1/executions/\(id)/logs", token: cast.user.accessToken,
                                                       headers: [.accept: "text/event-stream"])
            let streamed = stream.text.components(separatedBy: "event: log\ndata: ").dropFirst()
                .compactMap { try? JSONParser.parse(Array($0.prefix { $0 != "\n" }.utf8))["text"]?.stringValue }.joined()
            #expect(streamed == "café 🙂 done\n", "\(stream.text)")
            let stored = try await loop.server.get("/api/v1/executions/\(id)/logs", token: cast.user.accessToken)
            #expect(stored.json["logs"]?.stringValue == "café 🙂 done\n", "\(stored.text)")
        }
    }
}

/// Submits the control plane refuses before anything is held.
@Suite struct ExecutionSubmitRefusalTests {
    @Test(arguments: StoreKind.allCases)
    func refusalsHoldNothing(_ kind: StoreKind) async throws {
        try await TestServer.run(kind) { server in
            let admin = try await server.account("admin", role: .admin)
            let creator = try await server.account("creator", role: .creator)
            let user = try await server.signUp("user")
            // A prompt agent: no bundle. It must not crash anything, and say why it cannot run.
            let prompt = try await server.createAgent(as: creator)
            try await server.approve(prompt, admin: admin)
            let path = "/api/v1/agents/\(prompt)/execute"
            let refused = try await server.post(path, ["inputs": ["text": "hi"]], token: user.accessToken)
            #expect(refused.status == .badRequest && refused.detail?.contains("prompt agent") == true, "\(refused.text)")
            // Missing required input: 422 naming it.
            let missing = try await server.post(path, ["inputs": [:]], token: user.accessToken)
            #expect(missing.status == .unprocessableContent && missing.issueLocations == ["body.inputs.text"], "\(missing.text)")
            let wrongType = try await server.post(path, ["inputs": ["text": 5]], token: user.accessToken)
            #expect(wrongType.issueLocations == ["body.inputs.text"])
            let notObject = try await server.post(path, ["inputs": "text"], token: user.accessToken)
            #expect(notObject.status == .unprocessableContent && notObject.issueLocations == ["body.inputs"])
            #expect(try await server.post(path, ["inputs": ["text": "hi"]]).status == .unauthorized)
            // Unknown and not-yet-approved agents are not found.
            #expect(try await server.post("/api/v1/agents/\(UUID().uuidString)/execute", ["inputs": [:]], token: user.accessToken).status == .notFound)
            let unapproved = try await server.createAgent(as: creator)
            #expect(try await server.post("/api/v1/agents/\(unapproved)/execute", ["inputs": ["text": "x"]], token: user.accessToken).status == .notFound)
            #expect(try await server.store.read { db in try await LedgerStore.balance(userID: user.id, in: db) } == 100_000)
            let executions = try await server.get("/api/v1/executions/", token: user.accessToken)
            #expect(executions.json["total"] == 0)
            let badFilter = try await server.get("/api/v1/executions/?status=done", token: user.accessToken)
            #expect(badFilter.status == .unprocessableContent)
        }
    }
}
