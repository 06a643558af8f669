import CSandbox
import Glibc

/// What `agentgrid-runner check` reports: each isolation feature the sandbox relies on, and
/// every reason this host cannot run sandboxes safely.
public enum HostCheck {
    public struct Report: Codable, Sendable {
        public var kernel: String
        public var runningAsRoot: Bool
        public var namespaces: [String: Bool]
        public var userNamespaces: Bool
        public var cgroupVersion: String?
        public var cgroupV1Controllers: [String]
        public var cgroupV2Controllers: [String]
        public var seccompFilters: Bool
        public var seccompActions: [String]
        public var pidfd: Bool
        public var blockers: [String]
        public var trial: Trial?

        enum CodingKeys: String, CodingKey {
            case kernel, runningAsRoot = "running_as_root", namespaces, userNamespaces = "user_namespaces"
            case cgroupVersion = "cgroup_version", cgroupV1Controllers = "cgroup_v1_controllers"
            case cgroupV2Controllers = "cgroup_v2_controllers", seccompFilters = "seccomp_filters"
            case seccompActions = "seccomp_actions", pidfd, blockers, trial
        }

        public var safe: Bool { blockers.isEmpty }

        public var text: String {
            func mark(_ ok: Bool) -> String { ok ? "yes" : "NO" }
            var lines = [
                "kernel              \(kernel)",
                "running as root     \(mark(runningAsRoot))",
                "namespaces          " + Self.namespaceOrder.map { "\($0)=\(mark(namespaces[$0] ?? false))" }.joined(separator: " "),
                "user namespaces     \(mark(userNamespaces))",
                "cgroup driver       \(cgroupVersion ?? "none")",
                "cgroup v1           [\(cgroupV1Controllers.joined(separator: ", "))]",
                "cgroup v2           [\(cgroupV2Controllers.joined(separator: ", "))]",
                "seccomp filters     \(mark(seccompFilters)) (actions: \(seccompActions.joined(separator: " ")))",
                "pidfd / clone3      \(mark(pidfd))",
            ]
            if let trial {
                lines.append("trial run           \(trial.outcome) under profile \(trial.profile): uid=\(trial.uid ?? "?") "
                    + "CapEff=\(trial.capEff ?? "?") NoNewPrivs=\(trial.noNewPrivs ?? "?") Seccomp=\(trial.seccomp ?? "?") "
                    + "(\(trial.wallMicroseconds) µs)")
            }
            if blockers.isEmpty {
                lines.append("verdict             this host can run sandboxes safely")
            } else {
                lines.append("verdict             NOT SAFE to run sandboxes:")
                lines += blockers.map { "  - \($0)" }
            }
            return lines.joined(separator: "\n")
        }

        static let namespaceOrder = ["pid", "mnt", "net", "ipc", "uts", "cgroup", "user"]
    }

    /// What a program saw from inside a trial sandbox.
    public struct Trial: Codable, Sendable {
        public var profile: String
        public var outcome: String
        public var uid: String?
        public var capEff: String?
        public var capBnd: String?
        public var noNewPrivs: String?
        public var seccomp: String?
        public var wallMicroseconds: Int64

        enum CodingKeys: String, CodingKey {
            case profile, outcome, uid, capEff = "cap_eff", capBnd = "cap_bnd", noNewPrivs = "no_new_privs"
            case seccomp, wallMicroseconds = "wall_us"
        }

        public init(profile: String, result: RunResult) {
            self.profile = profile
            outcome = result.setupError.map { "\(result.outcome.rawValue) (\($0))" } ?? result.outcome.rawValue
            wallMicroseconds = result.wallMicroseconds
            var fields: [String: String] = [:]
            for line in String(decoding: result.stdout, as: UTF8.self).split(separator: "\n") {
                let parts = line.split(separator: ":", maxSplits: 1)
                if parts.count == 2 { fields[String(parts[0])] = parts[1].trimmingCharacters() }
            }
            uid = fields["Uid"]
            capEff = fields["CapEff"]
            capBnd = fields["CapBnd"]
            noNewPrivs = fields["NoNewPrivs"]
            seccomp = fields["Seccomp"]
        }

        /// Everything that would make the trial sandbox unsafe.
        public var problems: [String] {
            var found: [String] = []
            if outcome != "completed" { found.append("trial run ended as \(outcome)") }
            if let uid, uid.split(whereSeparator: \.isWhitespace).contains("0") { found.append("trial run had uid 0 (\(uid))") }
            if capEff != "0000000000000000" { found.append("trial run had capabilities (CapEff=\(capEff ?? "?"))") }
            if capBnd != "0000000000000000" { found.append("trial run had a bounding set (CapBnd=\(capBnd ?? "?"))") }
            if noNewPrivs != "1" { found.append("trial run lacked no_new_privs") }
            if seccomp != "2" { found.append("trial run had no seccomp filter (Seccomp=\(seccomp ?? "?"))") }
            return found
        }
    }

    public static func probe() -> Report {
        let probe = CgroupProbe.host()
        var namespaces: [String: Bool] = [:]
        for name in Report.namespaceOrder { namespaces[name] = access("/proc/self/ns/\(name)", F_OK) == 0 }
        let maxUserNamespaces = Int(readSmallFile("/proc/sys/user/max_user_namespaces")?.trimmingWhitespace() ?? "") ?? 0
        let actions = (readSmallFile("/proc/sys/kernel/seccomp/actions_avail") ?? "")
            .split(whereSeparator: \.isWhitespace).map(String.init)
        let seccomp = readSmallFile("/proc/self/status")?.contains("Seccomp:") == true && actions.contains("kill_process")
        let pidfd = sbx_pidfd_supported() == 1
        var report = Report(
            kernel: HostInfo.kernelRelease, runningAsRoot: geteuid() == 0, namespaces: namespaces,
            userNamespaces: namespaces["user"] == true && maxUserNamespaces > 0,
            cgroupVersion: probe.preferredVersion?.rawValue, cgroupV1Controllers: probe.v1Controllers,
            cgroupV2Controllers: probe.unifiedControllers, seccompFilters: seccomp,
            seccompActions: actions, pidfd: pidfd, blockers: [], trial: nil)
        if !report.runningAsRoot { report.blockers.append("not running as root: the runner needs root to build namespaces, cgroups and per-slot uids") }
        for name in ["pid", "mnt", "net", "ipc", "uts", "cgroup"] where namespaces[name] != true {
            report.blockers.append("\(name) namespaces are not available")
        }
        if let reason = probe.missingReason { report.blockers.append(reason) }
        if !seccomp { report.blockers.append("seccomp filters with SECCOMP_RET_KILL_PROCESS are not available") }
        if !pidfd { report.blockers.append("clone3 with CLONE_PIDFD is not available (Linux 5.3+ needed)") }
        return report
    }
}

extension Substring {
    func trimmingCharacters() -> String { trimmingWhitespace() }
}
