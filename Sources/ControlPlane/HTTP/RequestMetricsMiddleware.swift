import Dispatch
import HTTPTypes
import Hummingbird
import Metrics
import Synchronization

/// Requests by route, method and status, their duration and the ones in flight, under the
/// names Hummingbird's `MetricsMiddleware` uses (`hb.requests`, `http.server.request.duration`,
/// `hb.request.errors`, `http.server.active_requests`). Hummingbird's wraps every response body
/// to record after it is written, which turns a JSON body held in memory into a streamed one:
/// head, body and end then go to the socket as three writes (three event-loop hops, two system
/// calls) instead of one. Here a body already in memory (its length known) is recorded when the
/// handler returns it; only a streamed body is wrapped, to be timed to its end.
struct RequestMetricsMiddleware<Context: RequestContext>: RouterMiddleware {
    private let cache = RequestMetricsCache()

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let start = DispatchTime.now().uptimeNanoseconds
        let active = cache.active(request.method)
        active.increment()
        let cache = self.cache
        do {
            var response = try await next(request, context)
            let metrics = cache.endpoint(route: context.endpointPath ?? "Unknown", method: request.method, status: response.status)
            let finish: @Sendable () -> Void = {
                metrics.requests.increment()
                metrics.duration.recordNanoseconds(Int64(DispatchTime.now().uptimeNanoseconds - start))
                active.decrement()
            }
            if response.body.contentLength != nil {
                finish()
            } else {
                let body = response.body
                response.body = ResponseBody { writer in
                    defer { finish() }
                    try await body.write(writer)
                }
            }
            return response
        } catch {
            let status = (error as? any HTTPResponseError)?.status ?? .internalServerError
            let metrics = cache.endpoint(route: context.endpointPath ?? "NotFound", method: request.method, status: status)
            metrics.requests.increment()
            metrics.errors.increment()
            active.decrement()
            throw error
        }
    }
}

/// The metric objects per route, method and status, made once: creating one asks the metrics
/// backend to look its label and dimensions up.
final class RequestMetricsCache: Sendable {
    struct Endpoint: Sendable {
        let requests: Counter
        let duration: Metrics.Timer
        let errors: Counter
    }

    private struct Key: Hashable {
        let route: String
        let method: HTTPRequest.Method
        let status: Int
    }

    private let endpoints = Mutex<[Key: Endpoint]>([:])
    private let meters = Mutex<[HTTPRequest.Method: Meter]>([:])

    func active(_ method: HTTPRequest.Method) -> Meter {
        meters.withLock { meters in
            if let meter = meters[method] { return meter }
            let meter = Meter(label: "http.server.active_requests", dimensions: [("http.request.method", method.rawValue)])
            meters[method] = meter
            return meter
        }
    }

    func endpoint(route: String, method: HTTPRequest.Method, status: HTTPResponse.Status) -> Endpoint {
        endpoints.withLock { endpoints in
            let key = Key(route: route, method: method, status: status.code)
            if let endpoint = endpoints[key] { return endpoint }
            let dimensions = [("http.route", route), ("http.request.method", method.rawValue), ("http.response.status_code", "\(status.code)")]
            let endpoint = Endpoint(
                requests: Counter(label: "hb.requests", dimensions: dimensions),
                duration: Metrics.Timer(label: "http.server.request.duration", dimensions: dimensions, preferredDisplayUnit: .seconds),
                errors: Counter(label: "hb.request.errors", dimensions: [
                    ("http.route", route), ("http.request.method", method.rawValue), ("error.type", "\(status.code)")]))
            endpoints[key] = endpoint
            return endpoint
        }
    }
}
