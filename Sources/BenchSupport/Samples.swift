import Glibc
import Synchronization

/// Latency samples in microseconds.
public struct Samples: Sendable {
    public init() {}

    public private(set) var values: [Int64] = []

    public mutating func add(_ microseconds: Int64) { values.append(microseconds) }

    public func percentile(_ p: Double) -> Double {
        guard !values.isEmpty else { return 0 }
        let sorted = values.sorted()
        let rank = Int((p / 100 * Double(sorted.count - 1)).rounded())
        return Double(sorted[rank]) / 1_000
    }

    public var p50: Double { percentile(50) }
    public var p99: Double { percentile(99) }
}

public func rounded(_ value: Double, _ places: Int = 3) -> Double {
    var scale = 1.0
    for _ in 0..<places { scale *= 10 }
    return (value * scale).rounded() / scale
}

/// Microseconds on the monotonic clock.
public func now() -> Int64 {
    var time = timespec()
    clock_gettime(CLOCK_MONOTONIC, &time)
    return Int64(time.tv_sec) * 1_000_000 + Int64(time.tv_nsec) / 1_000
}

/// `{"bench":…,…}` with keys in the given order, numbers as numbers.
public func jsonLine(_ fields: [(String, any Sendable)]) -> String {
    "{" + fields.map { key, value in
        let text = value is String ? "\"\(value)\"" : "\(value)"
        return "\"\(key)\":\(text)"
    }.joined(separator: ",") + "}"
}

/// Microseconds for `callers` tasks each running `runsEach` back to back.
public func elapsed(callers: Int, runsEach: Int, _ body: @escaping @Sendable () async throws -> Void) async throws -> Int64 {
    let start = now()
    try await withThrowingTaskGroup(of: Void.self) { group in
        for _ in 0..<callers {
            group.addTask {
                for _ in 0..<runsEach { try await body() }
            }
        }
        try await group.waitForAll()
    }
    return now() - start
}

public struct BenchError: Error, CustomStringConvertible {
    public var message: String
    public init(message: String) { self.message = message }
    public var description: String { message }
}

/// Latency samples from concurrent clients.
public final class LatencyCollector: Sendable {
    public init() {}
    private let storage = Mutex(Samples())
    public func add(_ microseconds: Int64) { storage.withLock { $0.add(microseconds) } }
    public var samples: Samples { storage.withLock { $0 } }
}
