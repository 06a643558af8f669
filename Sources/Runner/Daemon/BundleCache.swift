import AgentBundle
import Foundation
import Glibc

/// Unpacked bundles under the state directory, by content hash, with a size cap: the least
/// recently used bundles not in use by a run are evicted first.
actor BundleCache {
    struct Entry {
        var unpacked: BundleUnpacker.Unpacked
        var lastUsed: UInt64
        var users: Int
    }

    let directory: String
    let capacityBytes: Int64
    let limits: BundleLimits
    private var entries: [String: Entry] = [:]
    private var clock: UInt64 = 0

    init(directory: String, capacityBytes: Int64, limits: BundleLimits = BundleLimits()) throws {
        self.directory = directory
        self.capacityBytes = capacityBytes
        self.limits = limits
        // Bundles of a previous process are not trusted to be whole: start empty.
        BundleUnpacker.removeTree(directory)
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true,
                                                attributes: [.posixPermissions: 0o755])
    }

    /// The unpacked bundle for `sha256`, unpacking `data` when it is not cached yet. The caller
    /// must `release` it when its run ends.
    func acquire(sha256: String, data: [UInt8]?) throws(BundleError) -> BundleUnpacker.Unpacked {
        let hash = sha256.lowercased()
        guard hash.count == 64, hash.allSatisfy(\.isHexDigit) else { throw .badManifest("sha256 must be 64 hex digits") }
        clock += 1
        if var entry = entries[hash] {
            entry.users += 1
            entry.lastUsed = clock
            entries[hash] = entry
            return entry.unpacked
        }
        guard let data else { throw .unknownBundle(hash) }
        let actual = BundleUnpacker.sha256(data)
        guard actual == hash else { throw .hashMismatch(expected: hash, actual: actual) }
        let staging = "\(directory)/.staging-\(hash)-\(clock)"
        let unpacked = try BundleUnpacker.unpack(data, into: staging, limits: limits)
        let final = "\(directory)/\(hash)"
        guard rename(staging, final) == 0 else {
            BundleUnpacker.removeTree(staging)
            throw .io("rename \(staging): errno \(errno)")
        }
        var moved = unpacked
        moved.root = final
        entries[hash] = Entry(unpacked: moved, lastUsed: clock, users: 1)
        evict()
        return moved
    }

    func release(sha256: String) {
        entries[sha256.lowercased()]?.users -= 1
        evict()
    }

    var totalBytes: Int64 { entries.values.reduce(0) { $0 + $1.unpacked.bytes } }
    var cached: [String] { entries.keys.sorted() }

    private func evict() {
        while totalBytes > capacityBytes,
              let victim = entries.filter({ $0.value.users == 0 }).min(by: { $0.value.lastUsed < $1.value.lastUsed }) {
            BundleUnpacker.removeTree(victim.value.unpacked.root)
            entries[victim.key] = nil
        }
    }
}
