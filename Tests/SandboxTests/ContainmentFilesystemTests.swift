import Foundation
import Testing
@testable import Sandbox

/// The fresh root: only what the profile lists is visible, nothing outside can be written.
@Suite struct ContainmentFilesystemTests {
    @Test func hostFilesThatWereNotBoundAreInvisible() async throws {
        let secret = "/root/agentgrid-secret-\(getpid())"
        try "top secret".write(toFile: secret, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: secret) }
        let result = try await Fixture.run(["/bin/sh", "-c", "cat \(secret); cat /etc/shadow; ls /root /home /var /run 2>&1; echo done"])
        #expect(!result.output.contains("top secret"))
        #expect(result.output.hasSuffix("done\n"))
        #expect(!result.output.contains("root:"))  // no host /etc/shadow or /etc/passwd entries for root
    }

    @Test func theRootHoldsOnlyWhatTheProfileLists() async throws {
        let result = try await Fixture.run(["/bin/ls", "-a", "/"])
        let entries = Set(result.output.split(separator: "\n").map(String.init))
        #expect(entries == [".", "..", "bin", "dev", "etc", "lib", "lib64", "probe", "proc", "sbin", "tmp", "usr", "work"])
        let devices = try await Fixture.run(["/bin/ls", "/dev"])
        #expect(Set(devices.output.split(separator: "\n")) == ["fd", "null", "random", "stderr", "stdin", "stdout", "urandom", "zero"])
    }

    @Test func nothingOutsideTmpAndTheWorkdirIsWritable() async throws {
        for target in ["/usr/pwned", "/etc/pwned", "/pwned", "/bin/pwned", "/dev/pwned", "/probe", "/proc/sys/kernel/core_pattern"] {
            let result = try await Fixture.run(["/probe", "write", target])
            #expect(result.output.hasPrefix("write: refused"), "\(target): \(result)")
        }
        let tmp = try await Fixture.run(["/probe", "write", "/tmp/ok"])
        #expect(tmp.output == "write: ALLOWED 6\n", "\(tmp)")
        let work = try await Fixture.run(["/probe", "write", "/work/ok"])
        #expect(work.output == "write: ALLOWED 6\n", "\(work)")
        #expect(!FileManager.default.fileExists(atPath: "/pwned"))
        #expect(!FileManager.default.fileExists(atPath: "/tmp/ok"))
    }

    @Test func hostCorePatternCannotBeChanged() async throws {
        let before = try String(contentsOfFile: "/proc/sys/kernel/core_pattern", encoding: .utf8)
        for profile in ["default", "strict"] {
            let result = try await Fixture.run(["/bin/sh", "-c", "echo '|/tmp/pwn' > /proc/sys/kernel/core_pattern && echo WROTE"], profile: profile)
            #expect(!result.output.contains("WROTE"))
        }
        #expect(try String(contentsOfFile: "/proc/sys/kernel/core_pattern", encoding: .utf8) == before)
    }

    @Test func procIsMaskedAndSysIsAbsent() async throws {
        let result = try await Fixture.run(["/bin/sh", "-c", """
            grep -E ' /proc/sys | /proc/keys | /proc/timer_list ' /proc/self/mountinfo | awk '{print $5, $6}'
            ls /sys 2>&1 >/dev/null && echo SYS-VISIBLE; cat /proc/keys; echo end
            """])
        #expect(result.output.contains("/proc/sys ro,"))
        #expect(!result.output.contains("SYS-VISIBLE"))
        #expect(result.output.hasSuffix("end\n"))
        #expect(!result.output.contains("keyring"))
    }

    @Test func readOnlyBindAtAnotherPath() async throws {
        let directory = NSTemporaryDirectory() + "agentgrid-bind-\(getpid())"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try "bundle contents".write(toFile: directory + "/data.txt", atomically: true, encoding: .utf8)
        let result = try await Fixture.run(
            ["/bin/sh", "-c", "cat /agent/data.txt; echo; echo x > /agent/new 2>/dev/null || echo READONLY"],
            readOnly: [PathMapping(source: directory, destination: "/agent")])
        #expect(result.output == "bundle contents\nREADONLY\n")
        #expect(!FileManager.default.fileExists(atPath: directory + "/new"))
    }

    @Test func tmpfsIsSizeCapped() async throws {
        let result = try await Fixture.run(
            ["/bin/sh", "-c", "head -c 8388608 /dev/zero > /tmp/big 2>/dev/null || echo FULL; du -k /tmp/big | cut -f1"],
            limits: LimitRequest(tmpfsBytes: 4 << 20))
        #expect(result.output.hasPrefix("FULL\n"))
        #expect(Int(result.output.split(separator: "\n").last ?? "") ?? 0 <= 4096)
    }
}
