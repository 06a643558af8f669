/// Latency samples in microseconds.
struct Samples {
    private(set) var values: [Int64] = []

    mutating func add(_ microseconds: Int64) { values.append(microseconds) }

    func percentile(_ p: Double) -> Double {
        guard !values.isEmpty else { return 0 }
        let sorted = values.sorted()
        let rank = Int((p / 100 * Double(sorted.count - 1)).rounded())
        return Double(sorted[rank]) / 1_000
    }

    var p50: Double { percentile(50) }
    var p99: Double { percentile(99) }
}

func rounded(_ value: Double, _ places: Int = 3) -> Double {
    var scale = 1.0
    for _ in 0..<places { scale *= 10 }
    return (value * scale).rounded() / scale
}
