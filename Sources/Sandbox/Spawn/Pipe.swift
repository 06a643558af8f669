import CSandbox
import Glibc

/// A pipe whose descriptors are closed on exec in the parent; the child dup3()s its end to
/// 0, 1 or 2, which clears the flag there.
struct Pipe {
    var read: Int32
    var write: Int32

    init() throws(SystemError) {
        var fds: [Int32] = [-1, -1]
        guard sbx_pipe_cloexec(&fds) == 0 else { throw SystemError("pipe2") }
        read = fds[0]
        write = fds[1]
    }
}

func setNonBlocking(_ fd: Int32) {
    let flags = fcntl(fd, F_GETFL)
    _ = fcntl(fd, F_SETFL, flags | O_NONBLOCK)
}

func closeIfOpen(_ fd: inout Int32) {
    if fd >= 0 {
        close(fd)
        fd = -1
    }
}
