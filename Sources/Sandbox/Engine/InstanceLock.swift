import Glibc

/// Marks an engine instance as alive for as long as its process holds an flock on
/// `/run/agentgrid-instances/NAME.lock` — one place for every engine on the host, whatever
/// its state directory, so a sweep can tell a dead engine's cgroups from a live one's.
final class InstanceLock: @unchecked Sendable {
    static let directory = "/run/agentgrid-instances"

    let name: String
    private var descriptor: Int32

    private init(name: String, descriptor: Int32) {
        self.name = name
        self.descriptor = descriptor
    }

    deinit { release() }

    func release() {
        if descriptor >= 0 { close(descriptor) }
        descriptor = -1
    }

    /// Takes the lock, or fails when a live process holds it (two engines of one name).
    static func take(_ name: String) throws(SystemError) -> InstanceLock {
        guard let lock = try attempt(name) else {
            throw SystemError("claim engine instance \(name): another live engine uses this name", errno: EBUSY)
        }
        return lock
    }

    /// The lock if nobody holds it (its engine is dead), else nil.
    static func attempt(_ name: String) throws(SystemError) -> InstanceLock? {
        try makeDirectories(directory)
        let path = "\(directory)/\(name.replacingOccurrences(of: "/", with: "_")).lock"
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw SystemError("open", path: path) }
        if flock(fd, LOCK_EX | LOCK_NB) == 0 { return InstanceLock(name: name, descriptor: fd) }
        close(fd)
        return nil
    }
}

extension String {
    func replacingOccurrences(of target: String, with replacement: String) -> String {
        split(separator: Character(target), omittingEmptySubsequences: false).joined(separator: replacement)
    }
}
