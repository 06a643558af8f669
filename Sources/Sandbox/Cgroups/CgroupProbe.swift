import Glibc

/// Finds the cgroup hierarchies of this host and picks a driver: v2 when the unified
/// hierarchy has the memory, pids and cpu controllers, otherwise v1 when every v1
/// controller the engine needs is mounted.
public struct CgroupProbe: Sendable, Equatable {
    public struct Mount: Sendable, Equatable {
        public var path: String
        public var filesystem: String   // "cgroup" or "cgroup2"
        /// Superblock options (controllers for v1, favordynmods, …).
        public var options: [String]
        /// Per-mount options (ro, nosuid, nodev, noexec, relatime, …).
        public var mountOptions: [String]
    }

    public var mounts: [Mount]
    /// Controllers available in the unified hierarchy, if one is mounted.
    public var unifiedControllers: [String]

    public init(mountinfo: String, readControllers: (String) -> String? = readSmallFile) {
        mounts = mountinfo.split(separator: "\n").compactMap(Self.parse)
        if let unified = mounts.first(where: { $0.filesystem == "cgroup2" }) {
            unifiedControllers = (readControllers("\(unified.path)/cgroup.controllers") ?? "")
                .split(whereSeparator: \.isWhitespace).map(String.init)
        } else {
            unifiedControllers = []
        }
    }

    public static func host() -> CgroupProbe {
        CgroupProbe(mountinfo: readSmallFile("/proc/self/mountinfo") ?? "")
    }

    /// Controller → mount point of its v1 hierarchy.
    public var v1Mounts: [String: String] {
        var result: [String: String] = [:]
        for mount in mounts where mount.filesystem == "cgroup" {
            for option in mount.options where result[option] == nil { result[option] = mount.path }
        }
        return result
    }

    public var v1Controllers: [String] {
        CgroupV1Driver.requiredControllers.filter { v1Mounts[$0] != nil }
    }

    public var unifiedMount: String? { mounts.first(where: { $0.filesystem == "cgroup2" })?.path }

    public var preferredVersion: CgroupVersion? {
        if unifiedMount != nil, CgroupV2Driver.requiredControllers.allSatisfy(unifiedControllers.contains) { return .v2 }
        if v1Controllers.count == CgroupV1Driver.requiredControllers.count { return .v1 }
        return nil
    }

    /// Why no driver can be used, for `agentgrid-runner check`.
    public var missingReason: String? {
        guard preferredVersion == nil else { return nil }
        let v1Missing = CgroupV1Driver.requiredControllers.filter { v1Mounts[$0] == nil }
        let v2Missing = CgroupV2Driver.requiredControllers.filter { !unifiedControllers.contains($0) }
        return "cgroup v2 lacks controllers [\(v2Missing.joined(separator: ", "))] and cgroup v1 lacks [\(v1Missing.joined(separator: ", "))]"
    }

    public func driver(group: String, forcing version: CgroupVersion? = nil) throws(SystemError) -> any CgroupDriver {
        switch version ?? preferredVersion {
        case .v2?:
            guard let root = unifiedMount else { throw SystemError("find cgroup2 mount", errno: ENOENT) }
            return CgroupV2Driver(root: root, group: group)
        case .v1?:
            return try CgroupV1Driver(mounts: v1Mounts, group: group)
        case nil:
            throw SystemError("find usable cgroups (\(missingReason ?? ""))", errno: ENOENT)
        }
    }

    // "36 25 0:31 / /sys/fs/cgroup/memory rw,nosuid - cgroup cgroup rw,memory"
    static func parse(_ line: Substring) -> Mount? {
        let halves = line.split(separator: " - ", maxSplits: 1)
        guard halves.count == 2 else { return nil }
        let left = halves[0].split(separator: " ")
        let right = halves[1].split(separator: " ")
        guard left.count >= 6, right.count >= 3, right[0] == "cgroup" || right[0] == "cgroup2" else { return nil }
        let options = right[2].split(separator: ",").map(String.init).filter { $0 != "rw" && $0 != "ro" }
        return Mount(path: unescapeMountPath(String(left[4])), filesystem: String(right[0]), options: options,
                     mountOptions: left[5].split(separator: ",").map(String.init))
    }
}

/// mountinfo escapes space, tab, newline and backslash as \ooo.
func unescapeMountPath(_ path: String) -> String {
    guard path.contains("\\") else { return path }
    var bytes: [UInt8] = []
    var iterator = Array(path.utf8)[...]
    while let byte = iterator.popFirst() {
        if byte == UInt8(ascii: "\\"), iterator.count >= 3,
           let value = UInt8(String(decoding: iterator.prefix(3), as: UTF8.self), radix: 8) {
            bytes.append(value)
            iterator = iterator.dropFirst(3)
        } else {
            bytes.append(byte)
        }
    }
    return String(decoding: bytes, as: UTF8.self)
}
