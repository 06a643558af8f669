import Glibc

/// An exclusive flock on a file, held until `release()` or until the process dies (the kernel
/// drops it then, which is what makes these locks safe markers of "someone alive has this").
final class FileLock: @unchecked Sendable {
    let path: String
    private var descriptor: Int32

    private init(path: String, descriptor: Int32) {
        self.path = path
        self.descriptor = descriptor
    }

    deinit { release() }

    func release() {
        if descriptor >= 0 { close(descriptor) }
        descriptor = -1
    }

    /// The lock, or nil when another open file (in any process) holds it.
    static func attempt(_ path: String) throws(SystemError) -> FileLock? {
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw SystemError("open", path: path) }
        if flock(fd, LOCK_EX | LOCK_NB) == 0 { return FileLock(path: path, descriptor: fd) }
        close(fd)
        return nil
    }
}
