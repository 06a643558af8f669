import Glibc

/// A host uid/gid held for one slot for the engine's lifetime. An flock on a file per id makes
/// the claim exclusive across processes (a runner and an operator's `exec` side by side) and
/// releases itself if the process dies.
final class HostIDLease: @unchecked Sendable {
    let id: UInt32
    private var descriptor: Int32

    private init(id: UInt32, descriptor: Int32) {
        self.id = id
        self.descriptor = descriptor
    }

    deinit { release() }

    /// Gives the id back (closing the lock file drops the flock).
    func release() {
        if descriptor >= 0 { close(descriptor) }
        descriptor = -1
    }

    static func claim(in range: Range<UInt32>, directory: String, avoiding taken: Set<UInt32>) throws(SystemError) -> HostIDLease {
        try makeDirectories(directory)
        for id in range where !taken.contains(id) {
            let path = "\(directory)/\(id).lock"
            let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
            guard fd >= 0 else { throw SystemError("open", path: path) }
            if flock(fd, LOCK_EX | LOCK_NB) == 0 { return HostIDLease(id: id, descriptor: fd) }
            close(fd)
        }
        throw SystemError("claim a free host uid in \(range.lowerBound)..<\(range.upperBound)", path: directory, errno: EBUSY)
    }
}
