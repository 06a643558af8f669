import HTTPTypes
import Hummingbird
import NIOCore

/// Reads a request body under the size cap and parses it as JSON, turning every client
/// mistake into the API's 413 or 422 rather than a thrown internal error.
enum RequestBody {
    static func bytes(_ request: Request, limit: Int) async throws -> [UInt8] {
        if let declared = request.headers[.contentLength].flatMap(Int.init), declared > limit {
            throw APIError(.contentTooLarge, "Request body larger than \(limit) bytes")
        }
        let buffer: ByteBuffer
        do {
            buffer = try await request.body.collect(upTo: limit)
        } catch let error as HTTPError where error.status == .contentTooLarge {
            throw APIError(.contentTooLarge, "Request body larger than \(limit) bytes")
        } catch is NIOTooManyBytesError {
            // A chunked body has no Content-Length to refuse early; the cap trips while reading.
            throw APIError(.contentTooLarge, "Request body larger than \(limit) bytes")
        }
        return Array(buffer.readableBytesView)
    }

    static func json(_ request: Request, context: APIRequestContext) async throws -> JSONValue {
        let bytes = try await bytes(request, limit: context.maxBodyBytes)
        if bytes.allSatisfy({ $0 == 0x20 || $0 == 0x0A || $0 == 0x0D || $0 == 0x09 }) {
            throw APIError.invalid([.key("body")], "Field required", type: "missing")
        }
        do {
            return try JSONParser.parse(bytes)
        } catch {
            throw APIError(validation: ValidationFailure(issues: [
                ValidationIssue(loc: [.key("body"), .index(error.offset)], msg: "JSON decode error: \(error.message)", type: "json_invalid"),
            ]))
        }
    }
}
