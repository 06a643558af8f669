/// Why a bundle was refused. Every case names what in the archive broke which rule.
public enum BundleError: Error, CustomStringConvertible, Sendable, Equatable {
    case notGzip(String)
    case corrupt(String)
    case tooLarge(limit: Int64)
    case tooManyFiles(limit: Int)
    case unsafePath(String, String)
    case unsupportedEntry(String, String)
    case symlinkEscapes(String, target: String)
    case duplicate(String)
    case badManifest(String)
    case hashMismatch(expected: String, actual: String)
    case unknownBundle(String)
    case io(String)

    public var description: String {
        switch self {
        case .notGzip(let why): return "not a gzip stream: \(why)"
        case .corrupt(let why): return "corrupt archive: \(why)"
        case .tooLarge(let limit): return "unpacks to more than \(limit) bytes"
        case .tooManyFiles(let limit): return "has more than \(limit) entries"
        case .unsafePath(let path, let why): return "entry \(path.debugDescription): \(why)"
        case .unsupportedEntry(let path, let kind): return "entry \(path.debugDescription): \(kind) entries are not allowed"
        case .symlinkEscapes(let path, let target): return "symlink \(path.debugDescription) -> \(target.debugDescription) points outside the bundle"
        case .duplicate(let path): return "entry \(path.debugDescription) appears twice"
        case .badManifest(let why): return "agent.yaml: \(why)"
        case .hashMismatch(let expected, let actual): return "content hash is sha256:\(actual), not the sha256:\(expected) it was sent as"
        case .unknownBundle(let hash): return "bundle sha256:\(hash) is not cached here; send it inline"
        case .io(let why): return why
        }
    }
}
