import Metrics
import Prometheus
import RunnerProtocol

/// The runner's counters and histograms (swift-metrics), exported for Prometheus.
enum RunnerMetrics {
    /// Installs the Prometheus backend once per process and returns its registry.
    static let registry: PrometheusCollectorRegistry = {
        let registry = PrometheusCollectorRegistry()
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.defaultDurationHistogramBuckets = [
            .microseconds(500), .milliseconds(1), .milliseconds(2), .milliseconds(5), .milliseconds(10),
            .milliseconds(25), .milliseconds(50), .milliseconds(100), .milliseconds(250), .milliseconds(500),
            .seconds(1), .seconds(2.5), .seconds(5), .seconds(10), .seconds(30), .seconds(60),
        ]
        MetricsSystem.bootstrap(factory)
        return registry
    }()

    static func finished(outcome: String, record: RunRecord, queuedFor wait: Duration) {
        Counter(label: "agentgrid_runs_total", dimensions: [("outcome", outcome)]).increment()
        Timer(label: "agentgrid_run_queue_wait_seconds").recordNanoseconds(Int64(wait.components.seconds) * 1_000_000_000 + wait.components.attoseconds / 1_000_000_000)
        if record.spawnMicroseconds > 0 {
            Timer(label: "agentgrid_run_spawn_seconds").recordMicroseconds(record.spawnMicroseconds)
        }
        Timer(label: "agentgrid_run_duration_seconds").recordMicroseconds(record.wallMicroseconds)
    }

    static func rejected(_ reason: RejectReason) {
        Counter(label: "agentgrid_runs_rejected_total", dimensions: [("reason", reason.rawValue)]).increment()
    }

    static func peerRefused() {
        Counter(label: "agentgrid_connections_refused_total").increment()
    }
}
