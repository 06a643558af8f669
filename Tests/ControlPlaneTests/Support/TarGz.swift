import Foundation
import Testing

/// .tar.gz archives for bundle tests, written by Python's tarfile from a list of entries, so a
/// test can also build what a well-behaved tar never would (`../x`, absolute paths, devices).
enum TarGz {
    enum Entry {
        case file(String, String, executable: Bool = false)
        case symlink(String, target: String)
        case device(String)
    }

    static func make(_ entries: [Entry]) throws -> [UInt8] {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("targz-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let spec: [[String: Any]] = entries.map { entry in
            switch entry {
            case .file(let name, let content, let executable): ["kind": "file", "name": name, "data": content, "mode": executable ? 0o755 : 0o644]
            case .symlink(let name, let target): ["kind": "symlink", "name": name, "target": target]
            case .device(let name): ["kind": "device", "name": name]
            }
        }
        try JSONSerialization.data(withJSONObject: spec).write(to: URL(fileURLWithPath: directory + "/spec.json"))
        let script = """
            import io, json, sys, tarfile
            spec = json.load(open(sys.argv[1]))
            with tarfile.open(sys.argv[2], "w:gz", format=tarfile.GNU_FORMAT) as t:
                for e in spec:
                    info = tarfile.TarInfo(e["name"])
                    if e["kind"] == "file":
                        data = e["data"].encode(); info.size = len(data); info.mode = e["mode"]; t.addfile(info, io.BytesIO(data))
                    elif e["kind"] == "symlink":
                        info.type = tarfile.SYMTYPE; info.linkname = e["target"]; t.addfile(info)
                    else:
                        info.type = tarfile.CHRTYPE; info.devmajor = 1; info.devminor = 3; t.addfile(info)
            """
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        process.arguments = ["-c", script, directory + "/spec.json", directory + "/out.tar.gz"]
        try process.run()
        process.waitUntilExit()
        try #require(process.terminationStatus == 0, "python could not build the archive")
        return Array(try Data(contentsOf: URL(fileURLWithPath: directory + "/out.tar.gz")))
    }
}
