import Metrics
import Prometheus

enum ControlPlaneMetrics {
    /// Installs the Prometheus backend once per process (swift-metrics allows one bootstrap)
    /// and returns the registry `/metrics` prints.
    static let registry: PrometheusCollectorRegistry = {
        let registry = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
        return registry
    }()
}
