import Crypto
import Glibc

/// Unpacks a bundle into a fresh directory under the hostile-archive rules: no absolute paths,
/// no "..", no devices, FIFOs or hard links, no symlink that points (or leads writes) outside,
/// no duplicates, capped size and entry count; files come out root-owned, 0644 or 0755.
public enum BundleUnpacker {
    public struct Unpacked: Sendable, Equatable {
        public var root: String
        public var manifest: BundleManifest
        public var bytes: Int64
        public var entries: Int
    }

    public static func sha256(_ data: [UInt8]) -> String {
        SHA256.hash(data: data).map { byte in
            let digits = Array("0123456789abcdef")
            return String([digits[Int(byte >> 4)], digits[Int(byte & 15)]])
        }.joined()
    }

    /// Unpacks `archive` into `destination`, which must not exist yet. On any error nothing is
    /// left at `destination`.
    public static func unpack(_ archive: [UInt8], into destination: String, limits: BundleLimits = BundleLimits()) throws(BundleError) -> Unpacked {
        guard mkdir(destination, 0o755) == 0 else { throw .io("mkdir \(destination): errno \(errno)") }
        do {
            return try extract(archive, into: destination, limits: limits)
        } catch {
            removeTree(destination)
            throw error
        }
    }

    private static func extract(_ archive: [UInt8], into root: String, limits: BundleLimits) throws(BundleError) -> Unpacked {
        var reader = TarReader(try GzipReader(archive, limit: limits.maximumBytes + Int64(limits.maximumEntries) * 1_024 + 1 << 20))
        var seen: Set<String> = []
        var symlinks: Set<String> = []
        var bytes: Int64 = 0
        var entries = 0
        while let entry = try reader.next() {
            entries += 1
            guard entries <= limits.maximumEntries else { throw .tooManyFiles(limit: limits.maximumEntries) }
            guard entry.path.utf8.count <= limits.maximumPathBytes else { throw .unsafePath(entry.path, "path longer than \(limits.maximumPathBytes) bytes") }
            guard let path = BundlePath.normalise(entry.path) else {
                throw .unsafePath(entry.path, entry.path.hasPrefix("/") ? "absolute path" : "climbs out of the bundle with ..")
            }
            if path.isEmpty { continue }  // "./" itself
            // Nothing may be written through a symlink the archive itself created.
            let components = path.split(separator: "/").map(String.init)
            for depth in 1..<max(1, components.count) {
                let prefix = components[..<depth].joined(separator: "/")
                if symlinks.contains(prefix) { throw .unsafePath(entry.path, "lies beneath the symlink \(prefix)") }
            }
            guard seen.insert(path).inserted || entry.kind == .directory else { throw .duplicate(path) }
            let target = root + "/" + path
            try makeParents(of: components, under: root)
            switch entry.kind {
            case .directory:
                if mkdir(target, 0o755) != 0 && errno != EEXIST { throw .io("mkdir \(path): errno \(errno)") }
            case .file:
                bytes += entry.size
                guard bytes <= limits.maximumBytes else { throw .tooLarge(limit: limits.maximumBytes) }
                try writeFile(target, executable: entry.mode & 0o111 != 0, reader: &reader)
            case .symlink(let linkTarget):
                guard !linkTarget.isEmpty, !linkTarget.hasPrefix("/") else { throw .symlinkEscapes(path, target: linkTarget) }
                let base = components.dropLast().joined(separator: "/")
                guard BundlePath.normalise(base.isEmpty ? linkTarget : base + "/" + linkTarget) != nil else {
                    throw .symlinkEscapes(path, target: linkTarget)
                }
                guard symlink(linkTarget, target) == 0 else { throw .io("symlink \(path): errno \(errno)") }
                symlinks.insert(path)
            case .hardlink:
                throw .unsupportedEntry(path, "hard link")
            case .other(let kind):
                throw .unsupportedEntry(path, kind)
            }
        }
        guard let text = readManifest(root) else { throw .badManifest("missing \(BundleManifest.fileName) at the bundle's root") }
        let manifest = try BundleManifest.parse(text)
        if let workdir = manifest.workdir {
            var info = stat()
            guard lstat(root + "/" + workdir, &info) == 0, info.st_mode & S_IFMT == S_IFDIR else {
                throw .badManifest("workdir \(workdir) is not a directory in the bundle")
            }
        }
        return Unpacked(root: root, manifest: manifest, bytes: bytes, entries: entries)
    }

    private static func makeParents(of components: [String], under root: String) throws(BundleError) {
        var current = root
        for component in components.dropLast() {
            current += "/" + component
            if mkdir(current, 0o755) != 0 && errno != EEXIST { throw .io("mkdir \(current): errno \(errno)") }
        }
    }

    private static func writeFile(_ path: String, executable: Bool, reader: inout TarReader) throws(BundleError) {
        // O_EXCL | O_NOFOLLOW: never through an existing file or link.
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, executable ? 0o755 : 0o644)
        guard fd >= 0 else { throw .io("create \(path): errno \(errno)") }
        defer { close(fd) }
        fchmod(fd, executable ? 0o755 : 0o644)  // independent of the umask
        while true {
            let chunk = try reader.readChunk()
            if chunk.isEmpty { return }
            let written = chunk.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            guard written == chunk.count else { throw .io("write \(path): errno \(errno)") }
        }
    }

    private static func readManifest(_ root: String) -> String? {
        let fd = open(root + "/" + BundleManifest.fileName, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var content: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 16_384)
        while content.count <= 1 << 20 {
            let count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if count <= 0 { break }
            content += buffer[..<count]
        }
        return String(decoding: content, as: UTF8.self)
    }

    /// rm -rf without following symlinks.
    public static func removeTree(_ path: String) {
        var info = stat()
        guard lstat(path, &info) == 0 else { return }
        if info.st_mode & S_IFMT == S_IFDIR {
            if let directory = opendir(path) {
                var names: [String] = []
                while let entry = readdir(directory) {
                    let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                        String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
                    }
                    if name != "." && name != ".." { names.append(name) }
                }
                closedir(directory)
                for name in names { removeTree(path + "/" + name) }
            }
            rmdir(path)
        } else {
            unlink(path)
        }
    }
}
