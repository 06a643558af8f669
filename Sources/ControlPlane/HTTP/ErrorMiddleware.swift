import HTTPTypes
import Hummingbird
import Logging

/// Turns every error into the API's JSON error shape. What a client caused keeps its status;
/// anything else is logged with the request id and answered with a bare 500 that leaks nothing.
struct ErrorMiddleware: RouterMiddleware {
    typealias Context = APIRequestContext

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as APIError {
            return error.response()
        } catch let failure as ValidationFailure {
            return APIError(validation: failure).response()
        } catch let error as HTTPError {
            let message = error.body ?? error.status.reasonPhrase
            return APIError(error.status, message, headers: error.headers).response()
        } catch {
            context.logger.error("unhandled error", metadata: ["error": "\(String(reflecting: error))", "path": "\(request.uri.path)"])
            return APIError(.internalServerError, "Internal Server Error").response()
        }
    }
}
