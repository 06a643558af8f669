import Foundation
import Glibc
import Logging
import RunnerProtocol
import Sandbox

/// The runner `agentgrid serve` starts for itself when `AGENTGRID_RUNNERS` is not set: a child
/// `agentgrid-runner serve` on a private socket in the data directory, so one command runs the
/// whole product. It gets its own process group (Ctrl-C on the terminal reaches the control
/// plane, which then stops it with SIGTERM and lets it drain), and a cgroup name derived from the
/// data directory, so after a crash the next start cleans up what the old one left. A runner
/// still answering on that socket (the control plane was killed, its runner was not) is adopted:
/// reused, and stopped like one of its own when this control plane stops (its pid is in
/// `runner.pid`). Its runs go on meanwhile, so the new control plane can collect them.
final class LocalRunner: Sendable {
    let endpoint: RunnerEndpoint
    private let pid: pid_t?
    private let logger: Logger

    private init(endpoint: RunnerEndpoint, pid: pid_t?, logger: Logger) {
        self.endpoint = endpoint
        self.pid = pid
        self.logger = logger
    }

    static func start(config: ControlPlaneConfig, logger: Logger) async throws -> LocalRunner {
        let directory = URL(fileURLWithPath: config.dataDirectory).standardizedFileURL.path + "/runner"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true,
                                                attributes: [.posixPermissions: 0o700])
        let socket = directory + "/runner.sock"
        let endpoint = RunnerEndpoint(socketPath: socket)
        let pidFile = directory + "/runner.pid"
        if await answers(socket) {
            let recorded = (try? String(contentsOfFile: pidFile, encoding: .utf8)).flatMap { pid_t($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
            let adopted = recorded.flatMap { isAlive($0) ? $0 : nil }
            logger.info("adopting the local runner already serving", metadata: ["socket": "\(socket)", "pid": "\(adopted.map(String.init) ?? "unknown")"])
            return LocalRunner(endpoint: endpoint, pid: adopted, logger: logger)
        }
        let binary = config.runnerBinary ?? URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
            .deletingLastPathComponent().appendingPathComponent("agentgrid-runner").path
        guard FileManager.default.isExecutableFile(atPath: binary) else {
            throw ConfigError.invalid("AGENTGRID_RUNNER_BIN", "'\(binary)' is not an executable agentgrid-runner (build it, or set AGENTGRID_RUNNERS)")
        }
        let slots = config.localRunnerSlots ?? HostInfo.onlineCPUs
        let name = "local-" + BundleInspector.sha256(Array(directory.utf8)).prefix(12)
        let arguments = [binary, "serve", "--socket", socket, "--slots", "\(slots)", "--queue", "\(slots * 8)",
                         "--state-dir", directory + "/state", "--profiles", ProfileDirectory.resolve(config.profilesDirectory),
                         "--name", name, "--grace", "5"]
        let pid = try spawn(arguments, log: directory + "/runner.log")
        try? "\(pid)\n".write(toFile: pidFile, atomically: true, encoding: .utf8)
        let runner = LocalRunner(endpoint: endpoint, pid: pid, logger: logger)
        let deadline = ContinuousClock.now + .seconds(20)
        while ContinuousClock.now < deadline {
            if await answers(socket) {
                logger.info("started the local runner", metadata: ["socket": "\(socket)", "slots": "\(slots)", "pid": "\(pid)",
                                                                  "log": "\(directory)/runner.log"])
                return runner
            }
            var status: Int32 = 0
            if waitpid(pid, &status, WNOHANG) == pid {
                throw ConfigError.unsafe("the local runner exited at start (status \(status)); see \(directory)/runner.log")
            }
            try await Task.sleep(for: .milliseconds(20))
        }
        await runner.stop()
        throw ConfigError.unsafe("the local runner did not come up within 20 s; see \(directory)/runner.log")
    }

    /// SIGTERM, then up to 10 s for the drain, then SIGKILL.
    func stop() async {
        guard let pid else { return }
        kill(pid, SIGTERM)
        let deadline = ContinuousClock.now + .seconds(10)
        var status: Int32 = 0
        while ContinuousClock.now < deadline {
            // A child of ours is reaped; an adopted one (another parent's orphan) just disappears.
            if waitpid(pid, &status, WNOHANG) == pid || !Self.isAlive(pid) { return }
            try? await Task.sleep(for: .milliseconds(20))
        }
        logger.warning("the local runner did not stop within 10 s; killing it", metadata: ["pid": "\(pid)"])
        kill(pid, SIGKILL)
        waitpid(pid, &status, 0)
    }

    /// The runner must inherit nothing else of ours: not the listening socket, not database
    /// connections, and not the child-watch socket our own supervisor (Foundation's `Process`, a
    /// test) holds open in us — while the runner kept it, we would look alive after exiting.
    /// Descriptors this process opens itself are close-on-exec already (NIO, SQLite); inherited
    /// ones may not be.
    private static func markInheritedDescriptorsCloseOnExec() {
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd") else { return }
        for fd in entries.compactMap(Int32.init) where fd > 2 {
            let flags = fcntl(fd, F_GETFD)
            if flags >= 0, flags & FD_CLOEXEC == 0 { _ = fcntl(fd, F_SETFD, flags | FD_CLOEXEC) }
        }
    }

    /// Running (a zombie waiting for a parent that is not us does not count).
    static func isAlive(_ pid: pid_t) -> Bool {
        guard kill(pid, 0) == 0, let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return false }
        return stat[stat.index(close, offsetBy: 2)] != "Z"
    }

    private static func answers(_ socket: String) async -> Bool {
        guard FileManager.default.fileExists(atPath: socket) else { return false }
        do {
            let client = try await RunnerClient.connect(socketPath: socket)
            try await client.withSession(client: "agentgrid-probe") { _ in }
            return true
        } catch {
            return false
        }
    }

    /// posix_spawn in a new process group, stdout and stderr appended to `log`, no other descriptor inherited.
    private static func spawn(_ arguments: [String], log: String) throws -> pid_t {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, log, O_WRONLY | O_CREAT | O_APPEND, 0o600)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        markInheritedDescriptorsCloseOnExec()
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETPGROUP))
        posix_spawnattr_setpgroup(&attributes, 0)
        let argv = arguments.map { strdup($0) } + [nil]
        defer { for pointer in argv { free(pointer) } }
        var pid: pid_t = 0
        let result = posix_spawn(&pid, arguments[0], &actions, &attributes, argv, environ)
        guard result == 0 else { throw ConfigError.unsafe("cannot start \(arguments[0]): \(String(cString: strerror(result)))") }
        return pid
    }
}
