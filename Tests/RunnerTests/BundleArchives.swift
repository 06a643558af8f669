import Foundation
import Testing

/// Builds .tar.gz archives for the bundle tests with Python's tarfile, which can write every
/// hostile entry a real attacker could (devices, "..", absolute paths, links).
enum BundleArchives {
    /// `entries` is Python: statements using `add_file(name, data)`, `add_link(name, target)`,
    /// `add(tarinfo)` on an open tarfile `t`.
    static func make(_ entries: String, manifest: String? = "entrypoint: [/bin/sh, run.sh]\n") throws -> Data {
        let directory = try TemporaryDirectory(prefix: "bundle-archive")
        let output = directory.path + "/bundle.tar.gz"
        let script = """
            import io, sys, tarfile
            t = tarfile.open(sys.argv[1], "w:gz", format=tarfile.GNU_FORMAT)
            def add_file(name, data, mode=0o644):
                info = tarfile.TarInfo(name); info.size = len(data); info.mode = mode
                t.addfile(info, io.BytesIO(data))
            def add_link(name, target):
                info = tarfile.TarInfo(name); info.type = tarfile.SYMTYPE; info.linkname = target; t.addfile(info)
            def add(info, data=None):
                t.addfile(info, io.BytesIO(data) if data is not None else None)
            class Zeros(io.RawIOBase):
                def __init__(self, n): self.n = n
                def readable(self): return True
                def readinto(self, b):
                    k = min(len(b), self.n); b[:k] = bytes(k); self.n -= k; return k
            \(manifest.map { "add_file('agent.yaml', \(pythonBytes($0)))" } ?? "")
            \(entries)
            t.close()
            """
        let scriptPath = directory.path + "/make.py"
        try script.write(toFile: scriptPath, atomically: true, encoding: .utf8)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        process.arguments = [scriptPath, output]
        try process.run()
        process.waitUntilExit()
        try #require(process.terminationStatus == 0, "python could not build the archive")
        return try Data(contentsOf: URL(fileURLWithPath: output))
    }

    static func pythonBytes(_ text: String) -> String {
        "b'" + text.unicodeScalars.map { scalar in
            scalar == "\n" ? "\\n" : scalar == "'" ? "\\'" : scalar == "\\" ? "\\\\" : String(scalar)
        }.joined() + "'"
    }
}
