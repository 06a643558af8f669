import Sandbox

/// The sandbox profiles the operator allows, as the runners load them: a bundle must name one
/// of these and ask for limits within its ceilings, checked at upload rather than at run time.
struct ProfileCatalog: Sendable {
    let profiles: [String: Profile]

    static let empty = ProfileCatalog(profiles: [:])

    static func load(directory: String) throws(ProfileError) -> ProfileCatalog {
        ProfileCatalog(profiles: try ProfileLoader.loadDirectory(directory))
    }

    var names: [String] { profiles.keys.sorted() }
}
