import Foundation
import Testing
@testable import Sandbox

/// LimitPolicy.resolve: a request's limits within the profile's ceilings.
@Suite struct LimitPolicyTests {
    /// Every limit, with its name in LimitError and how to set and read it.
    enum Limit: String, CaseIterable, Sendable, CustomTestStringConvertible {
        case memory, pids, cpus, cpuTime, wallTime, stdout, stderr, tmpfs, openFiles, fileSize, stack

        var testDescription: String { rawValue }

        var errorName: String {
            switch self {
            case .memory: return "memory"
            case .pids: return "pids"
            case .cpus: return "cpus (milli-CPUs)"
            case .cpuTime: return "cpu_time (ms)"
            case .wallTime: return "wall_time (ms)"
            case .stdout: return "stdout"
            case .stderr: return "stderr"
            case .tmpfs: return "tmpfs"
            case .openFiles: return "open_files"
            case .fileSize: return "file_size"
            case .stack: return "stack"
            }
        }

        var keyPath: WritableKeyPath<LimitRequest, Int64?> {
            switch self {
            case .memory: return \.memoryBytes
            case .pids: return \.pids
            case .cpus: return \.milliCPUs
            case .cpuTime: return \.cpuTimeMs
            case .wallTime: return \.wallTimeMs
            case .stdout: return \.stdoutBytes
            case .stderr: return \.stderrBytes
            case .tmpfs: return \.tmpfsBytes
            case .openFiles: return \.openFiles
            case .fileSize: return \.fileSizeBytes
            case .stack: return \.stackBytes
            }
        }

        func resolved(_ limits: ResolvedLimits) -> Int64 {
            switch self {
            case .memory: return limits.memoryBytes
            case .pids: return limits.pids
            case .cpus: return limits.milliCPUs
            case .cpuTime: return limits.cpuTimeMs
            case .wallTime: return limits.wallTimeMs
            case .stdout: return limits.stdoutBytes
            case .stderr: return limits.stderrBytes
            case .tmpfs: return limits.tmpfsBytes
            case .openFiles: return limits.openFiles
            case .fileSize: return limits.fileSizeBytes
            case .stack: return limits.stackBytes
            }
        }

        /// The test policy's bounds for this limit (distinct values, so a mix-up shows).
        var bounds: Bounded<Int64> {
            LimitPolicyTests.policy[keyPath: policyKeyPath]
        }

        var policyKeyPath: KeyPath<LimitPolicy, Bounded<Int64>> {
            switch self {
            case .memory: return \.memoryBytes
            case .pids: return \.pids
            case .cpus: return \.milliCPUs
            case .cpuTime: return \.cpuTimeMs
            case .wallTime: return \.wallTimeMs
            case .stdout: return \.stdoutBytes
            case .stderr: return \.stderrBytes
            case .tmpfs: return \.tmpfsBytes
            case .openFiles: return \.openFiles
            case .fileSize: return \.fileSizeBytes
            case .stack: return \.stackBytes
            }
        }
    }

    /// default.yaml's limits, with stack's default below its max so "lower" is testable.
    static let policy = LimitPolicy(
        memoryBytes: Bounded(defaultValue: 64 << 20, ceiling: 256 << 20),
        pids: Bounded(defaultValue: 32, ceiling: 128),
        milliCPUs: Bounded(defaultValue: 500, ceiling: 1_000),
        cpuTimeMs: Bounded(defaultValue: 2_000, ceiling: 10_000),
        wallTimeMs: Bounded(defaultValue: 5_000, ceiling: 60_000),
        stdoutBytes: Bounded(defaultValue: 1 << 20, ceiling: 16 << 20),
        stderrBytes: Bounded(defaultValue: 256 << 10, ceiling: 4 << 20),
        tmpfsBytes: Bounded(defaultValue: 16 << 20, ceiling: 64 << 20),
        openFiles: Bounded(defaultValue: 64, ceiling: 1_024),
        fileSizeBytes: Bounded(defaultValue: 15 << 20, ceiling: 63 << 20),
        stackBytes: Bounded(defaultValue: 4 << 20, ceiling: 8 << 20))

    @Test func emptyRequestGetsEveryDefault() throws {
        let limits = try Self.policy.resolve(LimitRequest())
        #expect(limits == ResolvedLimits(
            memoryBytes: 64 << 20, pids: 32, milliCPUs: 500, cpuTimeMs: 2_000, wallTimeMs: 5_000,
            stdoutBytes: 1 << 20, stderrBytes: 256 << 10, tmpfsBytes: 16 << 20, openFiles: 64,
            fileSizeBytes: 15 << 20, stackBytes: 4 << 20))
    }

    @Test(arguments: Limit.allCases)
    func lowerValueIsAcceptedAndOnlyThatLimitChanges(limit: Limit) throws {
        var request = LimitRequest()
        request[keyPath: limit.keyPath] = 1
        let limits = try Self.policy.resolve(request)
        for other in Limit.allCases {
            #expect(other.resolved(limits) == (other == limit ? 1 : other.bounds.defaultValue), "\(other)")
        }
    }

    @Test(arguments: Limit.allCases)
    func valueAtTheCeilingIsAccepted(limit: Limit) throws {
        var request = LimitRequest()
        request[keyPath: limit.keyPath] = limit.bounds.ceiling
        #expect(limit.resolved(try Self.policy.resolve(request)) == limit.bounds.ceiling)
    }

    @Test(arguments: Limit.allCases)
    func valueAboveTheCeilingIsRefusedNamingTheLimit(limit: Limit) {
        var request = LimitRequest()
        let requested = limit.bounds.ceiling + 1
        request[keyPath: limit.keyPath] = requested
        let error = #expect(throws: LimitError.self) { try Self.policy.resolve(request) }
        #expect(error == LimitError(limit: limit.errorName, requested: requested, ceiling: limit.bounds.ceiling))
        #expect(error?.description == "\(limit.errorName): \(requested) exceeds the profile's ceiling of \(limit.bounds.ceiling)")
    }

    @Test(arguments: Limit.allCases, [Int64(0), -1, Int64.min])
    func zeroOrNegativeIsRefused(limit: Limit, value: Int64) {
        var request = LimitRequest()
        request[keyPath: limit.keyPath] = value
        let error = #expect(throws: LimitError.self) { try Self.policy.resolve(request) }
        #expect(error == LimitError(limit: limit.errorName, requested: value, ceiling: limit.bounds.ceiling))
        #expect(error?.description == "\(limit.errorName): \(value) must be positive")
    }

    @Test func hugeRequestIsRefusedNotClamped() {
        let error = #expect(throws: LimitError.self) {
            try Self.policy.resolve(LimitRequest(memoryBytes: Int64.max))
        }
        #expect(error?.limit == "memory")
        #expect(error?.requested == Int64.max)
    }

    @Test func firstOffendingLimitIsReported() {
        // memory is checked before pids.
        let error = #expect(throws: LimitError.self) {
            try Self.policy.resolve(LimitRequest(memoryBytes: 1 << 40, pids: 0))
        }
        #expect(error?.limit == "memory")
    }

    @Test func shippedDefaultProfileResolvesLikeItsYAML() throws {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        let profile = try ProfileLoader.resolve("default", directory: url.appendingPathComponent("profiles").path)
        let limits = try profile.limits.resolve(LimitRequest(memoryBytes: 32 << 20, wallTimeMs: 1_000))
        #expect(limits == ResolvedLimits(
            memoryBytes: 32 << 20, pids: 32, milliCPUs: 500, cpuTimeMs: 2_000, wallTimeMs: 1_000,
            stdoutBytes: 1 << 20, stderrBytes: 256 << 10, tmpfsBytes: 16 << 20, openFiles: 64,
            fileSizeBytes: 16 << 20, stackBytes: 8 << 20))
        let error = #expect(throws: LimitError.self) {
            try profile.limits.resolve(LimitRequest(memoryBytes: 100 << 30))
        }
        #expect(error == LimitError(limit: "memory", requested: 100 << 30, ceiling: 256 << 20))
    }
}
