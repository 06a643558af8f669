import Glibc

let cpuPeriodMicroseconds: Int64 = 100_000

func cpuQuotaMicroseconds(milliCPUs: Int64) -> Int64 {
    // The kernel refuses quotas below 1 ms.
    max(1_000, milliCPUs * cpuPeriodMicroseconds / 1_000)
}

func parsePids(_ text: String) -> [Int32] {
    text.split(whereSeparator: \.isNewline).compactMap { Int32($0.trimmingWhitespace()) }
}

/// mkdir -p. Another engine may remove a shared, momentarily empty parent (agentgrid/) while
/// we descend, so a vanished parent means starting over, a few times.
func makeDirectories(_ path: String) throws(SystemError) {
    for attempt in 1...3 {
        var current = ""
        var vanished = false
        for component in path.split(separator: "/") {
            current += "/\(component)"
            if mkdir(current, 0o755) != 0 && errno != EEXIST {
                if errno == ENOENT && attempt < 3 { vanished = true; break }
                throw SystemError("mkdir", path: current)
            }
        }
        if !vanished { return }
    }
}

/// Removes `path` and then its parents up to (not including) `stop`, stopping quietly at the
/// first one that still has children (another engine's group).
func removeDirectoryChain(_ path: String, below stop: String) throws(SystemError) {
    var current = path
    while current.count > stop.count, current.hasPrefix(stop) {
        if rmdir(current) != 0 {
            if errno == ENOENT || errno == ENOTEMPTY || errno == EBUSY { return }
            throw SystemError("rmdir", path: current)
        }
        guard let slash = current.lastIndex(of: "/") else { return }
        current = String(current[..<slash])
    }
}

/// Freeze, SIGKILL every member, thaw, and repeat until the cgroup is empty. Frozen tasks
/// keep a pending SIGKILL until thawed, which is what makes the kill atomic for the group.
func killUntilEmpty(
    list: () throws(SystemError) -> [Int32],
    freeze: () throws(SystemError) -> Void,
    thaw: () throws(SystemError) -> Void
) throws(SystemError) {
    var attempts = 0
    while true {
        let pids = try list()
        if pids.isEmpty { return }
        attempts += 1
        if attempts > 2_000 {  // ~2 s of stragglers: something is stuck in the kernel
            throw SystemError("empty cgroup (processes remain: \(pids.prefix(8)))", errno: EBUSY)
        }
        if attempts == 1 || attempts % 50 == 0 {
            try freeze()
            for pid in pids { kill(pid, SIGKILL) }
            try thaw()
        }
        usleep(1_000)
    }
}
