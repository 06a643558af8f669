import Sandbox

/// How `agentgrid-runner exec` (and later `submit`) exits. A program's own exit code passes
/// through; a signal N gives 128+N; the sandbox's own verdicts have codes of their own.
enum RunnerExit {
    static let usage: Int32 = 64            // bad flags, bad profile, limit above the ceiling
    static let setupError: Int32 = 120      // the sandbox could not be built (step and errno on stderr)
    static let outputLimit: Int32 = 121
    static let seccompViolation: Int32 = 122
    static let oom: Int32 = 123
    static let timeout: Int32 = 124         // wall or CPU time; as timeout(1)
    static let notExecutable: Int32 = 126   // as a shell: found but not executable
    static let notFound: Int32 = 127        // as a shell: no such program inside the sandbox
    static let cancelled: Int32 = 130       // interrupted (SIGINT/SIGTERM) and killed

    static func code(for result: RunResult) -> Int32 {
        switch result.outcome {
        case .completed, .failed:
            if let code = result.exitCode { return code }
            return 128 + (result.signal ?? 0)
        case .timeout: return timeout
        case .oom: return oom
        case .seccompViolation: return seccompViolation
        case .outputLimit: return outputLimit
        case .cancelled: return cancelled
        case .setupError:
            if result.setupError?.step == "execve" {
                switch result.setupError?.errno {
                case 2?, 20?: return notFound          // ENOENT, ENOTDIR
                case 13?, 8?: return notExecutable     // EACCES, ENOEXEC
                default: break
                }
            }
            return setupError
        }
    }
}
