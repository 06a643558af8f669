import Hummingbird

/// `/api/v1/credits`: the caller's balance and ledger (purchases and Stripe come later).
struct CreditRoutes {
    let services: ControlPlaneServices

    func register(in table: RouteTable) {
        table.add(.get, "/api/v1/credits/balance", balance)
        table.add(.get, "/api/v1/credits/transactions", transactions)
    }

    @Sendable func balance(_ request: Request, _ context: APIRequestContext) async throws -> Response {
        let user = try await services.authenticator.user(request)
        // Read fresh rather than from the authenticated user, which may predate a concurrent change.
        let milli = try await services.store.read { db in try await LedgerStore.balance(userID: user.id, in: db) }
        return JSONResponse.make(.ok, ["balance": .credits(milli ?? user.creditsMilli)])
    }

    @Sendable func transactions(_ request: Request, _ context: APIRequestContext) async throws -> Response {
        let user = try await services.authenticator.user(request)
        var query = QueryValidator(QueryString.parameters(request))
        let page = Page.read(&query)
        let type = query.enumeration("type", LedgerEntryType.self)
        try query.finish()
        let result = try await services.store.read { db in
            try await LedgerStore.entries(userID: user.id, type: type, skip: page.skip, limit: page.limit, in: db)
        }
        return JSONResponse.make(.ok, page.envelope(result.entries.map(\.json), total: result.total))
    }
}
