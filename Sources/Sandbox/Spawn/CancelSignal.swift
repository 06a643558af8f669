import CSandbox
import Glibc

/// An eventfd the supervisor polls: firing it from any thread ends the run as `cancelled`.
public final class CancelSignal: Sendable {
    let descriptor: Int32

    public init() throws(SystemError) {
        let fd = sbx_eventfd()
        guard fd >= 0 else { throw SystemError("eventfd") }
        descriptor = fd
    }

    deinit { close(descriptor) }

    public func fire() {
        var one: UInt64 = 1
        _ = write(descriptor, &one, 8)
    }

    var isFired: Bool {
        var pollfd = Glibc.pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
        return poll(&pollfd, 1, 0) == 1
    }
}
