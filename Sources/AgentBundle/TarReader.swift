/// One entry of a tar archive, as read from its header (ustar, GNU long names, pax paths).
struct TarEntry {
    enum Kind: Equatable {
        case file, directory, symlink(target: String), hardlink(target: String), other(String)
    }
    var path: String
    var kind: Kind
    var mode: UInt32
    var size: Int64
}

/// Reads a tar stream header by header; the caller consumes each file's content before asking
/// for the next header.
struct TarReader {
    private let source: GzipReader
    private var remainingContent: Int64 = 0
    private var padding = 0

    init(_ source: GzipReader) {
        self.source = source
    }

    /// The next entry, or nil at the archive's end (two zero blocks, or end of stream).
    mutating func next() throws(BundleError) -> TarEntry? {
        try skipContent()
        var longName: String?
        var longLink: String?
        while true {
            let header = try source.read(512)
            if header.isEmpty { return nil }
            guard header.count == 512 else { throw .corrupt("truncated tar header") }
            if header.allSatisfy({ $0 == 0 }) { return nil }
            try verifyChecksum(header)
            let type = header[156]
            let size = try octal(header[124..<136], field: "size")
            switch type {
            case UInt8(ascii: "L"), UInt8(ascii: "K"):
                // GNU long name / long link: the content is the name for the next header.
                guard size <= 4_096 else { throw .corrupt("GNU long name of \(size) bytes") }
                let text = String(decoding: try readContent(size).prefix { $0 != 0 }, as: UTF8.self)
                if type == UInt8(ascii: "L") { longName = text } else { longLink = text }
                continue
            case UInt8(ascii: "x"), UInt8(ascii: "g"):
                guard size <= 65_536 else { throw .corrupt("pax header of \(size) bytes") }
                let records = try readContent(size)
                if type == UInt8(ascii: "x") {
                    let fields = Self.paxFields(records)
                    if let path = fields["path"] { longName = path }
                    if let link = fields["linkpath"] { longLink = link }
                }
                continue
            default:
                break
            }
            var path = longName ?? Self.string(header[0..<100])
            let prefix = Self.string(header[345..<500])
            if longName == nil, !prefix.isEmpty, header[257..<262].elementsEqual("ustar".utf8) { path = prefix + "/" + path }
            let link = longLink ?? Self.string(header[157..<257])
            let mode = UInt32(truncatingIfNeeded: try octal(header[100..<108], field: "mode"))
            let kind: TarEntry.Kind
            switch type {
            case UInt8(ascii: "0"), 0, UInt8(ascii: "7"): kind = .file
            case UInt8(ascii: "5"): kind = .directory
            case UInt8(ascii: "2"): kind = .symlink(target: link)
            case UInt8(ascii: "1"): kind = .hardlink(target: link)
            case UInt8(ascii: "3"): kind = .other("character device")
            case UInt8(ascii: "4"): kind = .other("block device")
            case UInt8(ascii: "6"): kind = .other("FIFO")
            default: kind = .other("type '\(Character(Unicode.Scalar(type)))'")
            }
            remainingContent = kind == .file ? size : 0
            padding = kind == .file ? Int((512 - size % 512) % 512) : 0
            if kind != .file && size > 0 {
                // Only regular files carry content; skip whatever a directory header claims.
                remainingContent = size
                padding = Int((512 - size % 512) % 512)
            }
            return TarEntry(path: path, kind: kind, mode: mode, size: kind == .file ? size : 0)
        }
    }

    /// The current file's content, at most `chunk` bytes at a time; empty at its end.
    mutating func readChunk(_ chunk: Int = 65_536) throws(BundleError) -> [UInt8] {
        guard remainingContent > 0 else { return [] }
        let want = Int(min(Int64(chunk), remainingContent))
        let bytes = try source.read(want)
        guard bytes.count == want else { throw .corrupt("file content cut short") }
        remainingContent -= Int64(want)
        if remainingContent == 0 { try skipPadding() }
        return bytes
    }

    private mutating func skipContent() throws(BundleError) {
        while remainingContent > 0 { _ = try readChunk() }
        try skipPadding()
    }

    private mutating func skipPadding() throws(BundleError) {
        if padding > 0 {
            guard try source.read(padding).count == padding else { throw .corrupt("padding cut short") }
            padding = 0
        }
    }

    private mutating func readContent(_ size: Int64) throws(BundleError) -> [UInt8] {
        let bytes = try source.read(Int(size))
        guard bytes.count == Int(size) else { throw .corrupt("header content cut short") }
        let pad = Int((512 - size % 512) % 512)
        guard try source.read(pad).count == pad else { throw .corrupt("padding cut short") }
        return bytes
    }

    private func verifyChecksum(_ header: [UInt8]) throws(BundleError) {
        let stored = try octal(header[148..<156], field: "checksum")
        var sum: Int64 = 0
        for (index, byte) in header.enumerated() { sum += (148..<156).contains(index) ? 32 : Int64(byte) }
        guard sum == stored else { throw .corrupt("tar header checksum mismatch") }
    }

    private func octal(_ field: ArraySlice<UInt8>, field name: String) throws(BundleError) -> Int64 {
        if let first = field.first, first & 0x80 != 0 { throw .corrupt("base-256 \(name) field (entry too large)") }
        var value: Int64 = 0
        var seenDigit = false
        for byte in field {
            if byte == 0 || byte == UInt8(ascii: " ") {
                if seenDigit { break } else { continue }
            }
            guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "7") else { throw .corrupt("bad octal in the \(name) field") }
            seenDigit = true
            value = value * 8 + Int64(byte - UInt8(ascii: "0"))
            guard value < 1 << 40 else { throw .corrupt("\(name) field out of range") }
        }
        return value
    }

    static func string(_ field: ArraySlice<UInt8>) -> String {
        String(decoding: field.prefix { $0 != 0 }, as: UTF8.self)
    }

    /// "LEN key=value\n" records.
    static func paxFields(_ records: [UInt8]) -> [String: String] {
        var fields: [String: String] = [:]
        for line in String(decoding: records, as: UTF8.self).split(separator: "\n") {
            guard let space = line.firstIndex(of: " "), let equals = line.firstIndex(of: "=") else { continue }
            fields[String(line[line.index(after: space)..<equals])] = String(line[line.index(after: equals)...])
        }
        return fields
    }
}
