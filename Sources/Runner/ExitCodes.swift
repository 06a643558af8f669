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
        code(outcome: result.outcome.rawValue, exitCode: result.exitCode, signal: result.signal,
             setupStep: result.setupError?.step, setupErrno: result.setupError?.errno)
    }

    /// The same mapping for a record that came over the wire.
    static func code(outcome: String, exitCode: Int32?, signal: Int32?, setupStep: String?, setupErrno: Int32?) -> Int32 {
        switch RunResult.Outcome(rawValue: outcome) {
        case .completed?, .failed?:
            if let exitCode { return exitCode }
            return 128 + (signal ?? 0)
        case .timeout?: return timeout
        case .oom?: return oom
        case .seccompViolation?: return seccompViolation
        case .outputLimit?: return outputLimit
        case .cancelled?: return cancelled
        case .setupError?, nil:
            if setupStep == "execve" {
                switch setupErrno {
                case 2?, 20?: return notFound          // ENOENT, ENOTDIR
                case 13?, 8?: return notExecutable     // EACCES, ENOEXEC
                default: break
                }
            }
            return setupError
        }
    }
}
