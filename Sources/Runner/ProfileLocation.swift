import Foundation
import Sandbox

/// Where profiles live when no `--profiles` is given: $AGENTGRID_PROFILES, ./profiles, the
/// checkout this binary was built in, then /etc/agentgrid/profiles.
enum ProfileLocation {
    static func directory(_ explicit: String?) -> String {
        if let explicit { return explicit }
        if let fromEnvironment = ProcessInfo.processInfo.environment["AGENTGRID_PROFILES"] { return fromEnvironment }
        let executable = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        let candidates = [
            FileManager.default.currentDirectoryPath + "/profiles",
            // .build/<config>/agentgrid-runner → the checkout's profiles/
            executable.deletingLastPathComponent().appendingPathComponent("../../profiles").standardized.path,
            executable.deletingLastPathComponent().appendingPathComponent("../../../profiles").standardized.path,
            "/etc/agentgrid/profiles",
        ]
        return candidates.first { FileManager.default.fileExists(atPath: "\($0)/default.yaml") } ?? candidates[0]
    }

    static var stateDirectory: String {
        ProcessInfo.processInfo.environment["AGENTGRID_STATE_DIR"] ?? "/run/agentgrid"
    }
}
