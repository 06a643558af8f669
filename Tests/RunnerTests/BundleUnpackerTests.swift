import AgentBundle
import Foundation
import Glibc
import Testing

/// The hostile-archive rules, one archive per attack.
@Suite struct BundleUnpackerTests {
    func unpack(_ archive: Data, limits: BundleLimits = BundleLimits()) throws -> (Result<BundleUnpacker.Unpacked, BundleError>, TemporaryDirectory) {
        let scratch = try TemporaryDirectory(prefix: "bundle-unpack")
        let destination = scratch.path + "/root"
        do {
            return (.success(try BundleUnpacker.unpack(Array(archive), into: destination, limits: limits)), scratch)
        } catch {
            #expect(!FileManager.default.fileExists(atPath: destination), "a refused bundle left files behind")
            return (.failure(error), scratch)
        }
    }

    @Test func aGoodBundleUnpacksWithItsManifestAndModes() throws {
        let archive = try BundleArchives.make("""
            add_file('run.sh', b'echo hi\\n', 0o4755)
            add_file('src/data.txt', b'data')
            add_link('latest', 'src/data.txt')
            """, manifest: "entrypoint: [/bin/sh, run.sh]\nworkdir: src\n")
        let (result, scratch) = try unpack(archive)
        defer { withExtendedLifetime(scratch) {} }  // the unpacked files live inside it
        let unpacked = try result.get()
        #expect(unpacked.manifest == BundleManifest(entrypoint: ["/bin/sh", "run.sh"], workdir: "src", profile: nil))
        #expect(unpacked.entries == 4)
        var info = stat()
        #expect(stat(unpacked.root + "/run.sh", &info) == 0)
        #expect(info.st_mode & 0o7777 == 0o755)  // setuid stripped, executable kept
        #expect(stat(unpacked.root + "/src/data.txt", &info) == 0 && info.st_mode & 0o7777 == 0o644)
        #expect(try String(contentsOfFile: unpacked.root + "/latest", encoding: .utf8) == "data")
    }

    static let hostile: [(name: String, entries: String, expected: String)] = [
        ("path traversal", "add_file('../escape.txt', b'x')", "climbs out of the bundle"),
        ("absolute path", "add_file('/tmp/agentgrid-abs.txt', b'x')", "absolute path"),
        ("symlink escape", "add_link('shadow', '../../../etc/shadow')", "points outside the bundle"),
        ("absolute symlink", "add_link('shadow', '/etc/shadow')", "points outside the bundle"),
        ("write through a symlink", "add_link('dir', 'sub')\nadd_file('dir/file', b'x')", "lies beneath the symlink dir"),
        ("character device", "i = tarfile.TarInfo('null'); i.type = tarfile.CHRTYPE; i.devmajor = 1; i.devminor = 3; add(i)", "character device"),
        ("fifo", "i = tarfile.TarInfo('pipe'); i.type = tarfile.FIFOTYPE; add(i)", "FIFO"),
        ("hard link", "add_file('a', b'x')\ni = tarfile.TarInfo('b'); i.type = tarfile.LNKTYPE; i.linkname = 'a'; add(i)", "hard link"),
        ("duplicate", "add_file('a', b'x')\nadd_file('a', b'y')", "appears twice"),
        ("tar bomb", "i = tarfile.TarInfo('zeros'); i.size = 300 << 20; t.addfile(i, io.BufferedReader(Zeros(300 << 20)))", "unpacks to more than"),
    ]

    @Test(arguments: hostile.map(\.name))
    func hostileArchivesAreRefused(_ name: String) throws {
        let attack = Self.hostile.first { $0.name == name }!
        let (result, _) = try unpack(try BundleArchives.make(attack.entries))
        guard case .failure(let error) = result else {
            Issue.record("\(name) was accepted")
            return
        }
        #expect(error.description.contains(attack.expected), "\(name): \(error)")
        #expect(!FileManager.default.fileExists(atPath: "/tmp/agentgrid-abs.txt"))
    }

    @Test func tooManyEntriesAreRefused() throws {
        let archive = try BundleArchives.make("for n in range(50): add_file('f%d' % n, b'')")
        let (result, _) = try unpack(archive, limits: BundleLimits(maximumEntries: 20))
        #expect(throws: BundleError.tooManyFiles(limit: 20)) { try result.get() }
    }

    @Test func aBundleWithoutAManifestOrWithABadOneIsRefused() throws {
        let (missing, _) = try unpack(try BundleArchives.make("add_file('run.sh', b'')", manifest: nil))
        #expect(throws: BundleError.badManifest("missing agent.yaml at the bundle's root")) { try missing.get() }
        let (noEntrypoint, _) = try unpack(try BundleArchives.make("", manifest: "workdir: src\n"))
        #expect(throws: BundleError.badManifest("entrypoint is required")) { try noEntrypoint.get() }
        let (escapingWorkdir, _) = try unpack(try BundleArchives.make("", manifest: "entrypoint: x\nworkdir: ../..\n"))
        #expect(throws: BundleError.self) { try escapingWorkdir.get() }
    }

    @Test func garbageIsNotAGzipStream() throws {
        let (result, _) = try unpack(Data("this is not a bundle at all, just text".utf8))
        guard case .failure(.notGzip) = result else {
            Issue.record("garbage accepted: \(result)")
            return
        }
    }

    @Test func theContentHashIsSHA256() {
        #expect(BundleUnpacker.sha256(Array("abc".utf8)) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    }
}
