import AgentBundle
import Foundation
import Glibc
import Sandbox

/// Decides whether an uploaded .tar.gz can run: unpacked (into a scratch directory, removed
/// afterwards) under the runner's own hostile-archive rules, its manifest read, its profile and
/// limits checked against the catalogue, and its entrypoint found.
enum BundleInspector {
    struct Inspected: Sendable {
        var sha256: String
        var manifest: AgentManifest
    }

    struct Refusal: Error, Equatable, CustomStringConvertible {
        var description: String
    }

    static func sha256(_ archive: [UInt8]) -> String { BundleUnpacker.sha256(archive) }

    static func inspect(_ archive: [UInt8], profiles: ProfileCatalog, limits: BundleLimits = BundleLimits()) throws(Refusal) -> Inspected {
        let scratch = NSTemporaryDirectory() + "agentgrid-bundle-\(UUID().uuidString)"
        let unpacked: BundleUnpacker.Unpacked
        do { unpacked = try BundleUnpacker.unpack(archive, into: scratch, limits: limits) } catch { throw Refusal(description: error.description) }
        defer { BundleUnpacker.removeTree(scratch) }
        let text: String
        do { text = try String(contentsOfFile: scratch + "/" + BundleManifest.fileName, encoding: .utf8) } catch {
            throw Refusal(description: "agent.yaml is not UTF-8 text")
        }
        let manifest: AgentManifest
        do { manifest = try AgentManifest.parse(text) } catch { throw Refusal(description: error.description) }
        guard let profile = profiles.profiles[manifest.profile] else {
            throw Refusal(description: "agent.yaml: profile \(manifest.profile) does not exist (available: \(profiles.names.joined(separator: ", ")))")
        }
        do { _ = try profile.limits.resolve(manifest.limitRequest) } catch {
            throw Refusal(description: "agent.yaml: limits: \(error.description) of profile \(profile.name)")
        }
        try checkEntrypoint(manifest, root: unpacked.root)
        return Inspected(sha256: sha256(archive), manifest: manifest)
    }

    /// A relative program is a file of the bundle (relative to the working directory). An
    /// absolute one is the sandbox's own (e.g. /bin/sh); then a first argument that names a file
    /// (has a "." or "/", not an option) must be in the bundle, so `[/bin/sh, main.sh]`
    /// without main.sh is refused while `[/usr/bin/python3, -c, …]` is not.
    private static func checkEntrypoint(_ manifest: AgentManifest, root: String) throws(Refusal) {
        let base = root + (manifest.workdir.map { "/" + $0 } ?? "")
        let where_ = manifest.workdir.map { "in \($0)/" } ?? "at the bundle's root"
        let program = manifest.entrypoint[0]
        if !program.hasPrefix("/") {
            guard isFile(base + "/" + program) else { throw Refusal(description: "agent.yaml: entrypoint \(program) is not a file \(where_)") }
            return
        }
        if manifest.entrypoint.count > 1 {
            let argument = manifest.entrypoint[1]
            if !argument.hasPrefix("-"), !argument.hasPrefix("/"), argument.contains(".") || argument.contains("/") {
                guard isFile(base + "/" + argument) else {
                    throw Refusal(description: "agent.yaml: entrypoint runs \(argument), which is not a file \(where_)")
                }
            }
        }
    }

    private static func isFile(_ path: String) -> Bool {
        var info = stat()
        // stat, not lstat: an in-bundle symlink to a file is fine (the unpacker kept links inside).
        return stat(path, &info) == 0 && info.st_mode & S_IFMT == S_IFREG
    }
}
