import CSandbox
import Synchronization

/// A BPF program ready for the child to install. Immutable; shared by every run of a profile.
public final class CompiledFilter: @unchecked Sendable {
    let filter: sbx_filter
    private let owned: Bool

    init(filter: sbx_filter, owned: Bool) {
        self.filter = filter
        self.owned = owned
    }

    deinit {
        if owned {
            var copy = filter
            sbx_filter_free(&copy)
        }
    }

    public var instructionCount: Int { Int(filter.length) }

    /// The fixed guard stacked on every policy (personality, clone flags, socket families).
    public static let guardFilter = CompiledFilter(filter: sbx_guard_filter(), owned: false)
}

public struct SeccompError: Error, CustomStringConvertible, Sendable {
    public var message: String
    public var description: String { "seccomp: \(message)" }
}

/// Compiles a profile's syscall policy with libseccomp, once per distinct policy.
public final class SeccompCompiler: Sendable {
    private let cache = Mutex<[SeccompPolicy: CompiledFilter]>([:])

    public init() {}

    public func filter(for policy: SeccompPolicy) throws(SeccompError) -> CompiledFilter {
        if let cached = cache.withLock({ $0[policy] }) { return cached }
        let compiled = try Self.compile(policy)
        return cache.withLock { cache in
            if let raced = cache[policy] { return raced }
            cache[policy] = compiled
            return compiled
        }
    }

    public static func compile(_ policy: SeccompPolicy) throws(SeccompError) -> CompiledFilter {
        var actions: [Int32: sbx_syscall_rule] = [:]
        func set(_ name: String, _ action: SeccompPolicy.Action) throws(SeccompError) {
            let number = sbx_syscall_number(name)
            guard number >= 0 else { throw SeccompError(message: "unknown syscall \(name) on this architecture") }
            actions[number] = rule(number, action)
        }
        for name in policy.allow { try set(name, .allow) }
        for override in policy.overrides { try set(override.name, override.action) }
        // Last, so no allow-list or override can soften them.
        for name in SeccompPolicy.forbidden where sbx_syscall_number(name) >= 0 { try set(name, .kill) }
        let rules = actions.keys.sorted().map { actions[$0]! }
        let fallback = rule(-1, policy.defaultAction)
        var filter = sbx_filter()
        let status = rules.withUnsafeBufferPointer { buffer in
            sbx_policy_compile(fallback.action, fallback.errno_value, buffer.baseAddress, buffer.count, &filter)
        }
        guard status == 0 else {
            throw SeccompError(message: "libseccomp failed to compile the policy from \(policy.origin): \(errnoName(-status))")
        }
        return CompiledFilter(filter: filter, owned: true)
    }

    private static func rule(_ number: Int32, _ action: SeccompPolicy.Action) -> sbx_syscall_rule {
        switch action {
        case .allow: return sbx_syscall_rule(number: number, action: Int32(SBX_ACTION_ALLOW.rawValue), errno_value: 0)
        case .errno(let value): return sbx_syscall_rule(number: number, action: Int32(SBX_ACTION_ERRNO.rawValue), errno_value: value)
        case .kill: return sbx_syscall_rule(number: number, action: Int32(SBX_ACTION_KILL.rawValue), errno_value: 0)
        }
    }
}
