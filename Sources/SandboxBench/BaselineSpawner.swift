import BenchSupport
import Glibc

/// Spawns a host command with posix_spawn and waits for it: the bare fork+exec baseline, and
/// bubblewrap when the command is bwrap.
struct BaselineSpawner {
    let arguments: [String]

    /// Runs once; returns microseconds from spawn to reaped, or nil if it failed.
    func runOnce() -> Int64? {
        let start = now()
        var pid: pid_t = 0
        var argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
        defer { for pointer in argv { free(pointer) } }
        var environment: [UnsafeMutablePointer<CChar>?] = [strdup("PATH=/usr/bin:/bin"), nil]
        defer { for pointer in environment { free(pointer) } }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
        guard posix_spawn(&pid, arguments[0], &actions, nil, &argv, &environment) == 0 else { return nil }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        guard status == 0 else { return nil }
        return now() - start
    }
}

/// bubblewrap with isolation comparable to ours (it does less: no cgroups, no seccomp).
func bubblewrapArguments(program: String) -> [String] {
    var arguments = ["/usr/bin/bwrap", "--unshare-all", "--die-with-parent", "--new-session", "--cap-drop", "ALL",
                     "--ro-bind", "/usr", "/usr"]
    for (link, target) in [("/bin", "usr/bin"), ("/lib", "usr/lib"), ("/lib64", "usr/lib64"), ("/sbin", "usr/sbin")] {
        arguments += ["--symlink", target, link]
    }
    arguments += ["--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp", "--", program]
    return arguments
}
