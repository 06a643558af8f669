import HTTPTypes
import Hummingbird
import NIOCore

enum JSONResponse {
    static func make(_ status: HTTPResponse.Status = .ok, _ body: JSONValue) -> Response {
        let bytes = body.serialized()
        var buffer = ByteBufferAllocator().buffer(capacity: bytes.count)
        buffer.writeBytes(bytes)
        return Response(status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: buffer))
    }

    static func noContent() -> Response { Response(status: .noContent) }
}
