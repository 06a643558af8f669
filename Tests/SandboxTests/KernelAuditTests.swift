import Testing
@testable import Sandbox

/// KernelAudit.parse on /dev/kmsg records ("PRIORITY,SEQ,TIMESTAMP_US,FLAGS;MESSAGE").
@Suite struct KernelAuditTests {
    /// A record as this kernel writes it for a seccomp kill (type 1326, SECCOMP).
    private func record(
        type: Int = 1326, timestamp: Int64 = 2_158_827_254, auid: String = "4294967295", uid: UInt32 = 700_000,
        syscall: String = "101"
    ) -> String {
        "5,434,\(timestamp),-;audit: type=\(type) audit(1796158975.921:24): auid=\(auid) uid=\(uid) gid=\(uid) "
            + "ses=4294967295 pid=19140 comm=\"python3\" exe=\"/usr/bin/python3.11\" sig=31 arch=c000003e "
            + "syscall=\(syscall) compat=0 ip=0x7f742cd08829 code=0x80000000"
    }

    @Test func matchingUidAfterTheStartGivesTheSyscall() {
        #expect(KernelAudit.parse(record(), uid: 700_000, since: 2_158_800_000) == 101)
        #expect(KernelAudit.parse(record(syscall: "425"), uid: 700_000, since: 2_158_800_000) == 425)
    }

    @Test func recordsOfOtherUidsAreIgnored() {
        #expect(KernelAudit.parse(record(uid: 700_001), uid: 700_000, since: 0) == nil)
        // uid is compared as a whole number, not a prefix.
        #expect(KernelAudit.parse(record(uid: 7_000_000), uid: 700_000, since: 0) == nil)
        #expect(KernelAudit.parse(record(uid: 70_000), uid: 700_000, since: 0) == nil)
        // auid is a different field: an auid equal to the slot's uid does not match.
        #expect(KernelAudit.parse(record(auid: "700000", uid: 0), uid: 700_000, since: 0) == nil)
    }

    @Test func timestampWindowAllowsFiveMillisecondsOfSkew() {
        let start: Int64 = 2_158_827_254
        #expect(KernelAudit.parse(record(timestamp: start), uid: 700_000, since: start) == 101)
        #expect(KernelAudit.parse(record(timestamp: start + 1), uid: 700_000, since: start) == 101)
        #expect(KernelAudit.parse(record(timestamp: start - 5_000), uid: 700_000, since: start) == 101)
        #expect(KernelAudit.parse(record(timestamp: start - 5_001), uid: 700_000, since: start) == nil)
        // An earlier run of the same slot (same uid), long before this one started.
        #expect(KernelAudit.parse(record(timestamp: start - 2_000_000), uid: 700_000, since: start) == nil)
    }

    @Test func otherRecordTypesAreIgnored() {
        // type=1300 (SYSCALL) records also carry uid= and syscall=.
        #expect(KernelAudit.parse(record(type: 1300), uid: 700_000, since: 0) == nil)
        #expect(KernelAudit.parse(record(type: 1400), uid: 700_000, since: 0) == nil)
        let plain = "6,100,2158827300,-;traps: python3[19140] general protection fault uid=700000 syscall=101"
        #expect(KernelAudit.parse(plain, uid: 700_000, since: 0) == nil)
    }

    @Test func malformedRecordsAreIgnored() {
        // No header separator.
        #expect(KernelAudit.parse("audit: type=1326 uid=700000 syscall=101", uid: 700_000, since: 0) == nil)
        // Header without a numeric timestamp.
        #expect(KernelAudit.parse("5,434;audit: type=1326 uid=700000 syscall=101", uid: 700_000, since: 0) == nil)
        #expect(KernelAudit.parse("5,434,abc,-;audit: type=1326 uid=700000 syscall=101", uid: 700_000, since: 0) == nil)
        // No or non-numeric syscall.
        #expect(KernelAudit.parse(record(syscall: "ptrace"), uid: 700_000, since: 0) == nil)
        let noSyscall = "5,434,2158827254,-;audit: type=1326 audit(1.2:3): uid=700000 sig=31"
        #expect(KernelAudit.parse(noSyscall, uid: 700_000, since: 0) == nil)
    }

    @Test func recordWithContinuationLinesStillParses() {
        let withDictionary = record() + "\n SUBSYSTEM=audit\n DEVICE=+audit:0"
        #expect(KernelAudit.parse(withDictionary, uid: 700_000, since: 0) == 101)
    }
}
