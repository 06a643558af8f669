import Glibc

/// Marks an engine instance as alive for as long as its process holds the lock on
/// `/run/agentgrid-instances/NAME.lock` — one place for every engine on the host, whatever its
/// state directory, so a sweep can tell a dead engine's cgroups from a live one's.
enum InstanceLock {
    static let directory = "/run/agentgrid-instances"

    /// Takes the lock, or fails when a live process holds it (two engines of one name).
    static func take(_ name: String) throws(SystemError) -> FileLock {
        guard let lock = try attempt(name) else {
            throw SystemError("claim engine instance \(name): another live engine uses this name", errno: EBUSY)
        }
        return lock
    }

    /// The lock if nobody holds it (its engine is dead), else nil.
    static func attempt(_ name: String) throws(SystemError) -> FileLock? {
        try makeDirectories(directory)
        let file = String(name.map { $0 == "/" ? "_" : $0 })
        return try FileLock.attempt("\(directory)/\(file).lock")
    }
}
