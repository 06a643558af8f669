import SQLKit

/// An execution the dispatcher has claimed for a runner: what it needs to send the run.
struct ClaimedExecution: Sendable {
    var id: String
    var agentID: String
    var inputs: String
    var bundleHash: String?
    var cancelRequested: Bool
    var createdAt: Int64
}

/// `executions`: the queue (pending rows), the runs in flight (running rows with a lease held by
/// the control-plane node that dispatched them) and the history users read.
enum ExecutionStore {
    static let columns = """
        id, agent_id, user_id, status, inputs, outputs, error_message, credits_used_milli, outcome, wall_ms, cpu_ms,
        peak_memory_bytes, exit_code, limit_hit, bundle_hash, runner, created_at, started_at, completed_at, duration_ms
        """

    static func decode(_ row: any SQLRow) throws -> Execution {
        func json(_ column: String) throws -> JSONValue? {
            guard let text = try row.decode(column: column, as: String?.self) else { return nil }
            return try? JSONParser.parse(Array(text.utf8))
        }
        return Execution(
            id: try row.decode(column: "id", as: String.self),
            agentID: try row.decode(column: "agent_id", as: String.self),
            userID: try row.decode(column: "user_id", as: String.self),
            status: ExecutionStatus(rawValue: try row.decode(column: "status", as: String.self)) ?? .failed,
            inputs: try json("inputs") ?? .object(JSONObject()),
            outputs: try json("outputs"),
            errorMessage: try row.decode(column: "error_message", as: String?.self),
            priceMilli: try row.decode(column: "credits_used_milli", as: Int64.self),
            outcome: try row.decode(column: "outcome", as: String?.self).flatMap(ExecutionOutcome.init(rawValue:)),
            wallMs: try row.decode(column: "wall_ms", as: Int64?.self),
            cpuMs: try row.decode(column: "cpu_ms", as: Int64?.self),
            peakMemoryBytes: try row.decode(column: "peak_memory_bytes", as: Int64?.self),
            exitCode: try row.decode(column: "exit_code", as: Int64?.self),
            limitHit: try row.decode(column: "limit_hit", as: String?.self),
            bundleHash: try row.decode(column: "bundle_hash", as: String?.self),
            runner: try row.decode(column: "runner", as: String?.self),
            createdAt: try row.decode(column: "created_at", as: Int64.self),
            startedAt: try row.decode(column: "started_at", as: Int64?.self),
            completedAt: try row.decode(column: "completed_at", as: Int64?.self),
            durationMs: try row.decode(column: "duration_ms", as: Int64?.self))
    }

    static func insert(_ execution: Execution, idempotencyKey: String?, requestHash: String?, in db: any SQLDatabase) async throws {
        try await db.raw("""
            INSERT INTO executions (id, agent_id, user_id, status, inputs, credits_used_milli, bundle_hash, idempotency_key,
                                    request_hash, created_at)
            VALUES (\(bind: execution.id), \(bind: execution.agentID), \(bind: execution.userID), \(bind: execution.status.rawValue),
                    \(bind: execution.inputs.serializedString()), \(bind: execution.priceMilli), \(bind: execution.bundleHash),
                    \(bind: idempotencyKey), \(bind: requestHash), \(bind: execution.createdAt))
            """).run()
    }

    static func find(id: String, in db: any SQLDatabase) async throws -> Execution? {
        try await db.raw("SELECT \(unsafeRaw: columns) FROM executions WHERE id = \(bind: id)").first().map(decode)
    }

    /// The user's execution, or nil — also when it exists but is someone else's.
    static func find(id: String, userID: String, in db: any SQLDatabase) async throws -> Execution? {
        try await db.raw("SELECT \(unsafeRaw: columns) FROM executions WHERE id = \(bind: id) AND user_id = \(bind: userID)")
            .first().map(decode)
    }

    /// The execution an earlier submit with this key created, and the hash of that request.
    static func find(idempotencyKey: String, userID: String, in db: any SQLDatabase) async throws -> (Execution, String?)? {
        guard let row = try await db.raw("""
            SELECT \(unsafeRaw: columns), request_hash FROM executions
            WHERE user_id = \(bind: userID) AND idempotency_key = \(bind: idempotencyKey)
            """).first() else { return nil }
        return (try decode(row), try row.decode(column: "request_hash", as: String?.self))
    }

    static func list(userID: String, status: ExecutionStatus?, agentID: String?, skip: Int64, limit: Int64,
                     in db: any SQLDatabase) async throws -> (executions: [Execution], total: Int64) {
        var filter = SQLQueryString("user_id = \(bind: userID)")
        if let status { filter.appendInterpolation(unsafeRaw: " AND status = "); filter.appendInterpolation(bind: status.rawValue) }
        if let agentID { filter.appendInterpolation(unsafeRaw: " AND agent_id = "); filter.appendInterpolation(bind: agentID) }
        let total = try await db.raw("SELECT COUNT(*) AS n FROM executions WHERE \(filter)").first()?
            .decode(column: "n", as: Int64.self) ?? 0
        let rows = try await db.raw("""
            SELECT \(unsafeRaw: columns) FROM executions WHERE \(filter)
            ORDER BY created_at DESC, id DESC LIMIT \(bind: limit) OFFSET \(bind: skip)
            """).all()
        return (try rows.map(decode), total)
    }

    /// The execution with its stored log, in one statement (the end of an event stream).
    static func findWithLogs(id: String, in db: any SQLDatabase) async throws -> (Execution, String?)? {
        guard let row = try await db.raw("SELECT \(unsafeRaw: columns), logs FROM executions WHERE id = \(bind: id)").first() else { return nil }
        return (try decode(row), try row.decode(column: "logs", as: String?.self))
    }

    static func logs(id: String, in db: any SQLDatabase) async throws -> String? {
        try await db.raw("SELECT logs FROM executions WHERE id = \(bind: id)").first()?.decode(column: "logs", as: String?.self)
    }

    // MARK: The queue

    /// Moves up to `limit` of the oldest pending executions to `running` on `runner`, leased to
    /// `node`. On PostgreSQL `SKIP LOCKED` lets several nodes claim at once without blocking on
    /// or taking each other's rows. SQLite has one writer, and the caller's transaction holds it:
    /// the oldest rows are read (ties in the order they were submitted, which the queue's index
    /// already holds, so no sort), then each is updated by its key. (The single UPDATE … WHERE
    /// id IN (SELECT … LIMIT ?) RETURNING was parsed and planned again at every execution: a
    /// tenth of the writer's time.)
    static func claim(limit: Int, runner: String, node: String, leaseUntil: Int64, engine: StoreEngine,
                      in db: any SQLDatabase) async throws -> [ClaimedExecution] {
        let columns = "id, agent_id, inputs, bundle_hash, cancel_requested, created_at"
        let now = Timestamp.now()
        let toRunning: SQLQueryString = """
            status = 'running', runner = \(bind: runner), dispatch_node = \(bind: node), lease_expires_at = \(bind: leaseUntil), started_at = \(bind: now)
            """
        let rows: [any SQLRow]
        if engine == .postgres {
            rows = try await db.raw("""
                UPDATE executions SET \(toRunning)
                WHERE id IN (SELECT id FROM executions WHERE status = 'pending'
                             ORDER BY created_at, id LIMIT \(bind: Int64(limit)) FOR UPDATE SKIP LOCKED)
                  AND status = 'pending'
                RETURNING \(unsafeRaw: columns)
                """).all()
        } else {
            rows = try await db.raw("""
                SELECT \(unsafeRaw: columns) FROM executions WHERE status = 'pending' ORDER BY created_at, rowid LIMIT \(bind: Int64(limit))
                """).all()
            for row in rows {
                try await db.raw("""
                    UPDATE executions SET \(toRunning) WHERE id = \(bind: try row.decode(column: "id", as: String.self)) AND status = 'pending'
                    """).run()
            }
        }
        let claimed = try rows.map { row in
            ClaimedExecution(
                id: try row.decode(column: "id", as: String.self),
                agentID: try row.decode(column: "agent_id", as: String.self),
                inputs: try row.decode(column: "inputs", as: String.self),
                bundleHash: try row.decode(column: "bundle_hash", as: String?.self),
                cancelRequested: try row.decode(column: "cancel_requested", as: Bool.self),
                createdAt: try row.decode(column: "created_at", as: Int64.self))
        }
        // RETURNING gives no order; the SELECT above gave the queue's.
        return engine == .postgres ? claimed.sorted { ($0.createdAt, $0.id) < ($1.createdAt, $1.id) } : claimed
    }

    /// A run the runner did not take (busy, draining): back in the queue, as if never claimed.
    static func release(id: String, node: String, in db: any SQLDatabase) async throws {
        try await db.raw("""
            UPDATE executions SET status = 'pending', runner = NULL, dispatch_node = NULL, lease_expires_at = NULL, started_at = NULL
            WHERE id = \(bind: id) AND status = 'running' AND dispatch_node = \(bind: node)
            """).run()
    }

    /// Extends this node's leases; returns the ids among them whose cancel was asked for (on any node).
    static func renewLeases(ids: [String], node: String, until: Int64, in db: any SQLDatabase) async throws -> [String] {
        guard !ids.isEmpty else { return [] }
        let list = SQLList(ids.map { SQLBind($0) })
        try await db.raw("""
            UPDATE executions SET lease_expires_at = \(bind: until)
            WHERE id IN (\(list)) AND status = 'running' AND dispatch_node = \(bind: node)
            """).run()
        let rows = try await db.raw("SELECT id FROM executions WHERE id IN (\(list)) AND status = 'running' AND cancel_requested = \(bind: true)").all()
        return try rows.map { try $0.decode(column: "id", as: String.self) }
    }

    /// Running executions whose node stopped renewing their lease (it crashed or restarted):
    /// this node takes them over. Returns each with the runner it was sent to (nil: never sent).
    static func takeOverExpired(node: String, now: Int64, until: Int64, in db: any SQLDatabase) async throws -> [(id: String, runner: String?)] {
        let rows = try await db.raw("""
            UPDATE executions SET dispatch_node = \(bind: node), lease_expires_at = \(bind: until)
            WHERE status = 'running' AND (lease_expires_at IS NULL OR lease_expires_at < \(bind: now))
            RETURNING id, runner
            """).all()
        return try rows.map { (try $0.decode(column: "id", as: String.self), try $0.decode(column: "runner", as: String?.self)) }
    }

    static func requestCancel(id: String, in db: any SQLDatabase) async throws {
        try await db.raw("UPDATE executions SET cancel_requested = \(bind: true) WHERE id = \(bind: id) AND status = 'running'").run()
    }
}
