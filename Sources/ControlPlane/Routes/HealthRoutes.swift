import Hummingbird
import Prometheus

/// Liveness, readiness (the store answers, a runner is connected) and Prometheus metrics.
struct HealthRoutes {
    let services: ControlPlaneServices
    let metrics: PrometheusCollectorRegistry?

    func register(in table: RouteTable) {
        table.add(.get, "/health", health)
        table.add(.get, "/health/ready", ready)
        table.add(.get, "/metrics", metricsText)
    }

    @Sendable func health(_ request: Request, _ context: APIRequestContext) async throws -> Response {
        JSONResponse.make(.ok, ["status": "healthy", "version": .string(services.settings.version)])
    }

    @Sendable func ready(_ request: Request, _ context: APIRequestContext) async throws -> Response {
        do {
            _ = try await services.store.read { db in try await db.raw("SELECT 1 AS one").first() }
        } catch {
            context.logger.warning("readiness: store unreachable", metadata: ["error": "\(String(reflecting: error))"])
            return JSONResponse.make(.serviceUnavailable, ["status": "unavailable", "store": "unreachable"])
        }
        // Without a connected runner nothing can run: not ready (a process that dispatches
        // nothing, such as a test of the API alone, has no runners to ask about).
        if let runners = services.dispatch.runnerReadiness {
            let summary: JSONValue = ["connected": .number(JSONNumber(runners.connected)), "configured": .number(JSONNumber(runners.configured))]
            guard runners.connected > 0 else {
                return JSONResponse.make(.serviceUnavailable, ["status": "unavailable", "store": "ok", "runners": summary])
            }
            return JSONResponse.make(.ok, ["status": "ready", "store": "ok", "runners": summary, "version": .string(services.settings.version)])
        }
        return JSONResponse.make(.ok, ["status": "ready", "store": "ok", "version": .string(services.settings.version)])
    }

    @Sendable func metricsText(_ request: Request, _ context: APIRequestContext) async throws -> Response {
        var bytes: [UInt8] = []
        metrics?.emit(into: &bytes)
        return Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4"],
                        body: .init(byteBuffer: .init(bytes: bytes)))
    }
}
