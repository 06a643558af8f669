import HTTPTypes
import Hummingbird

/// Running agents: `POST /agents/{id}/execute`, and the caller's executions under `/executions`.
struct ExecutionRoutes {
    let services: ControlPlaneServices

    func register(in table: RouteTable) {
        table.add(.post, "/api/v1/agents/{agent_id}/execute", execute)
        table.add(.get, "/api/v1/executions", list)
        table.add(.get, "/api/v1/executions/{execution_id}", get)
        table.add(.post, "/api/v1/executions/{execution_id}/cancel", cancel)
        table.add(.get, "/api/v1/executions/{execution_id}/logs", logs)
    }

    @Sendable func execute(_ request: Request, _ context: APIRequestContext) async throws -> Response {
        let user = try await services.authenticator.user(request)
        let agentID = try context.parameter("agent_id")
        guard let agent = try await services.store.read({ db in try await AgentStore.find(id: agentID, in: db) }),
              agent.status == .active else { throw APIError.notFound("Agent") }
        var body = BodyValidator(try await RequestBody.json(request, context: context))
        let inputs = body.dictionary("inputs")
        try body.finish()
        guard let inputs else { throw APIError.badRequest("Invalid body") }
        let issues = ExecutionInputs.issues(inputs, config: agent.config)
        if !issues.isEmpty { throw APIError(validation: ValidationFailure(issues: issues)) }
        guard agent.bundleHash != nil else {
            throw APIError.badRequest(
                "This agent has no code bundle: it is a prompt agent, and prompt agents cannot run until the LLM gateway is available")
        }
        let key = request.headers[.idempotencyKey]
        if let key, !ExecutionSubmission.validKey(key) {
            throw APIError.badRequest("Idempotency-Key must be 1 to 255 visible ASCII characters")
        }
        let result = try await ExecutionSubmission.submit(agent: agent, userID: user.id, inputs: .object(inputs),
                                                          idempotencyKey: key, store: services.store)
        switch result {
        case .created(let execution):
            services.dispatch.wake()
            return JSONResponse.make(.created, execution.json)
        case .replayed(let execution):
            var response = JSONResponse.make(.created, execution.json)
            response.headers[.idempotentReplayed] = "true"
            return response
        }
    }

    @Sendable func list(_ request: Request, _ context: APIRequestContext) async throws -> Response {
        let user = try await services.authenticator.user(request)
        var query = QueryValidator(QueryString.parameters(request))
        let page = Page.read(&query)
        let status = query.enumeration("status", ExecutionStatus.self)
        let agentID = query.string("agent_id", minLength: 1, maxLength: 64)
        try query.finish()
        let result = try await services.store.read { db in
            try await ExecutionStore.list(userID: user.id, status: status, agentID: agentID, skip: page.skip, limit: page.limit, in: db)
        }
        return JSONResponse.make(.ok, page.envelope(result.executions.map(\.json), total: result.total))
    }

    @Sendable func get(_ request: Request, _ context: APIRequestContext) async throws -> Response {
        let execution = try await ownExecution(request, context)
        return JSONResponse.make(.ok, execution.json)
    }

    @Sendable func cancel(_ request: Request, _ context: APIRequestContext) async throws -> Response {
        let user = try await services.authenticator.user(request)
        let id = try context.parameter("execution_id")
        let before: ExecutionStatus = try await services.store.transaction { db in
            guard let execution = try await ExecutionStore.find(id: id, userID: user.id, in: db) else { throw APIError.notFound("Execution") }
            switch execution.status {
            case .pending:
                return try await Settlement.settle(id, .cancelledBeforeStart(), in: db) ?? execution.status
            case .running:
                try await ExecutionStore.requestCancel(id: id, in: db)
                return execution.status
            case .completed, .failed, .cancelled:
                throw APIError.badRequest("Execution already finished (\(execution.status.rawValue))")
            }
        }
        if before == .cancelled {
            services.events.ended(id, status: .cancelled)
            return JSONResponse.make(.ok, ["message": "Execution cancelled"])
        }
        // Running: the runner stops it and the result settles it; wait briefly so the answer is true.
        services.dispatch.requestCancel(id)
        let deadline = ContinuousClock.now + .seconds(10)
        while ContinuousClock.now < deadline {
            let now = try await services.store.read { db in try await ExecutionStore.find(id: id, in: db) }
            switch now?.status {
            case .cancelled: return JSONResponse.make(.ok, ["message": "Execution cancelled"])
            case .completed, .failed:
                throw APIError.badRequest("Execution already finished (\(now!.status.rawValue)) before the cancel reached it")
            default: try await Task.sleep(for: .milliseconds(25))
            }
        }
        return JSONResponse.make(.accepted, ["message": "Cancellation requested; the run has not stopped yet"])
    }

    @Sendable func logs(_ request: Request, _ context: APIRequestContext) async throws -> Response {
        if (request.headers[.accept] ?? "").contains("text/event-stream") {
            // Subscribed before the row is read, so nothing between the two is missed; a caller
            // who may not read the run gets the 404 and the subscription ends with this scope.
            let live = services.events.subscribe(try context.parameter("execution_id"))
            let execution = try await ownExecution(request, context)
            return ExecutionLogStream(execution: execution, live: live, store: services.store, events: services.events).response()
        }
        let execution = try await ownExecution(request, context)
        let stored = try await services.store.read { db in try await ExecutionStore.logs(id: execution.id, in: db) }
        let text = execution.status.isFinished ? stored : services.events.stderr(execution.id)
        return JSONResponse.make(.ok, [
            "execution_id": .string(execution.id), "status": .string(execution.status.rawValue), "logs": .string(text ?? ""),
        ])
    }

    private func ownExecution(_ request: Request, _ context: APIRequestContext) async throws -> Execution {
        let user = try await services.authenticator.user(request)
        let id = try context.parameter("execution_id")
        guard let execution = try await services.store.read({ db in try await ExecutionStore.find(id: id, userID: user.id, in: db) }) else {
            throw APIError.notFound("Execution")
        }
        return execution
    }
}

extension HTTPField.Name {
    static let idempotencyKey = HTTPField.Name("Idempotency-Key")!
    static let idempotentReplayed = HTTPField.Name("Idempotent-Replayed")!
}
