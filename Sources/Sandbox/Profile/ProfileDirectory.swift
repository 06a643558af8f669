import Foundation

/// Where profiles live when none is named: $AGENTGRID_PROFILES, ./profiles, the checkout the
/// running binary was built in, then /etc/agentgrid/profiles. The runner and the control plane
/// (which checks bundles against the same profiles) both look here.
public enum ProfileDirectory {
    public static func resolve(_ explicit: String?) -> String {
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
}
