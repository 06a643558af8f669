/// Why a run could not be started at all (a run that starts always ends in a `RunResult`).
public enum SandboxError: Error, CustomStringConvertible, Sendable {
    case invalidRequest(String)
    case limit(LimitError)
    case mount(MountPlanError)
    case seccomp(SeccompError)
    case system(SystemError)
    case shutDown

    public var description: String {
        switch self {
        case .invalidRequest(let message): return "invalid request: \(message)"
        case .limit(let error): return "limit refused: \(error)"
        case .mount(let error): return "filesystem: \(error)"
        case .seccomp(let error): return error.description
        case .system(let error): return error.description
        case .shutDown: return "the sandbox engine has shut down"
        }
    }
}
