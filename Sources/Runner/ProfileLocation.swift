import Foundation
import Sandbox

/// Where the runner's profiles and state live when no flag names them.
enum ProfileLocation {
    static func directory(_ explicit: String?) -> String { ProfileDirectory.resolve(explicit) }

    static var stateDirectory: String {
        ProcessInfo.processInfo.environment["AGENTGRID_STATE_DIR"] ?? "/run/agentgrid"
    }
}
