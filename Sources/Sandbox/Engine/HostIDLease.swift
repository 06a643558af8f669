import Glibc

/// A host uid/gid held for one slot for the engine's lifetime. An flock on a file per id makes
/// the claim exclusive across processes (a runner and an operator's `exec` side by side) and
/// releases itself if the process dies.
final class HostIDLease: Sendable {
    /// One directory for the whole host, whatever an engine's state directory: two engines must
    /// never hand out the same uid (RLIMIT_NPROC, for one, counts per uid across all of them).
    static let directory = "/run/agentgrid-ids"

    let id: UInt32
    private let lock: FileLock

    private init(id: UInt32, lock: FileLock) {
        self.id = id
        self.lock = lock
    }

    /// Gives the id back.
    func release() { lock.release() }

    static func claim(in range: Range<UInt32>, directory: String, avoiding taken: Set<UInt32>) throws(SystemError) -> HostIDLease {
        try makeDirectories(directory)
        for id in range where !taken.contains(id) {
            if let lock = try FileLock.attempt("\(directory)/\(id).lock") { return HostIDLease(id: id, lock: lock) }
        }
        throw SystemError("claim a free host uid in \(range.lowerBound)..<\(range.upperBound)", path: directory, errno: EBUSY)
    }
}
