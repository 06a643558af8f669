import Hummingbird
import Logging
import NIOCore

/// Per-request state: the request id (also in every log line) and the client address the
/// login throttle keys on.
struct APIRequestContext: RequestContext {
    var coreContext: CoreRequestContextStorage
    var requestID: String = ""
    let clientAddress: String
    var maxBodyBytes: Int = 1 << 20

    init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        clientAddress = source.channel.remoteAddress?.ipAddress ?? "unknown"
    }

    /// Hummingbird's own cap: large enough for the biggest route (bundle uploads check
    /// their own, larger, limit); JSON routes cap at `maxBodyBytes`.
    var maxUploadSize: Int { maxBodyBytes }
}
