import Hummingbird
import Logging

/// Assembles the HTTP application: middleware order, then every route group.
public enum ControlPlaneApp {
    /// The router with all routes, and the table of endpoints it serves.
    static func router(services: ControlPlaneServices) -> (Router<APIRequestContext>, [Endpoint]) {
        let router = Router(context: APIRequestContext.self)
        // Outermost first: the request id must be on every response, including the ones the
        // error middleware produces; metrics and logs see the final status.
        router.addMiddleware {
            RequestIDMiddleware()
            RequestMetricsMiddleware()
            LogRequestsMiddleware(.debug)
            ErrorMiddleware()
            BodyLimitMiddleware(maxBodyBytes: services.settings.maxBodyBytes)
        }
        let table = RouteTable(router: router)
        HealthRoutes(services: services, metrics: ControlPlaneMetrics.registry).register(in: table)
        AuthRoutes(services: services).register(in: table)
        UserRoutes(services: services).register(in: table)
        AgentRoutes(services: services).register(in: table)
        CreatorRoutes(services: services).register(in: table)
        CreditRoutes(services: services).register(in: table)
        BundleRoutes(services: services).register(in: table)
        ExecutionRoutes(services: services).register(in: table)
        OpenAPIRoute().register(in: table)
        return (router, table.endpoints)
    }

    public static func application(services: ControlPlaneServices, host: String, port: Int) -> some ApplicationProtocol {
        let (router, _) = router(services: services)
        return Application(
            router: router,
            configuration: .init(address: .hostname(host, port: port), serverName: "agentgrid"),
            logger: services.logger)
    }
}

/// Sets the JSON body cap on the context before any handler reads the body.
struct BodyLimitMiddleware: RouterMiddleware {
    typealias Context = APIRequestContext
    let maxBodyBytes: Int

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var context = context
        context.maxBodyBytes = maxBodyBytes
        return try await next(request, context)
    }
}
