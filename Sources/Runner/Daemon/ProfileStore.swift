import Sandbox
import Synchronization

/// The profiles the runner serves, swapped whole on reload: a directory with any invalid
/// profile is refused and the previous set stays in force.
final class ProfileStore: Sendable {
    let directory: String
    private let profiles: Mutex<[String: Profile]>

    init(directory: String) throws(ProfileError) {
        self.directory = directory
        profiles = Mutex(try ProfileLoader.loadDirectory(directory))
    }

    subscript(name: String) -> Profile? { profiles.withLock { $0[name] } }

    var names: [String] { profiles.withLock { $0.keys.sorted() } }

    /// Loads the directory again; on error nothing changes and the error is returned.
    func reload() -> ProfileError? {
        do {
            let fresh = try ProfileLoader.loadDirectory(directory)
            profiles.withLock { $0 = fresh }
            return nil
        } catch {
            return error
        }
    }
}
