import DRCore
import Foundation
import Metrics
import Prometheus

/// The agent's Prometheus metrics: `drctl_` prefix, base units, `_total` counters, help
/// text on each (so `promtool check metrics` passes). One registry per process, also
/// bootstrapped as the swift-metrics backend.
public final class AgentMetrics: Sendable {
    public let registry = PrometheusCollectorRegistry()

    public init() {}

    /// Makes the registry the process's swift-metrics backend (at most once per process).
    public func bootstrap() {
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
    }

    /// The exposition text for `GET /metrics`.
    public func exposition() -> String {
        var buffer: [UInt8] = []
        registry.emit(into: &buffer)
        return String(decoding: buffer, as: UTF8.self)
    }

    func nodeUp(_ node: String, _ up: Bool) {
        registry.makeGauge(name: "drctl_node_database_up", labels: [("node", node)],
                           help: "1 when the node's database passed its last health check, else 0").set(Double(up ? 1 : 0))
    }

    func healthCheck(_ node: String, passed: Bool) {
        registry.makeCounter(name: "drctl_health_checks_total", labels: [("node", node), ("result", passed ? "pass" : "fail")],
                             help: "Health checks of the node's database, by result").increment()
    }

    func consecutiveFailures(_ node: String, _ count: Int) {
        registry.makeGauge(name: "drctl_health_check_consecutive_failures", labels: [("node", node)],
                           help: "Failed health checks in a row of the node's database").set(Double(count))
    }

    func replication(_ node: String, lagBytes: UInt64?, lagSeconds: Double?) {
        if let lagBytes {
            registry.makeGauge(name: "drctl_replication_lag_bytes", labels: [("node", node)],
                               help: "Bytes of WAL the standby has not received yet, against the primary's last published position").set(Double(lagBytes))
        }
        if let lagSeconds {
            registry.makeGauge(name: "drctl_replication_lag_seconds", labels: [("node", node)],
                               help: "Seconds of replication lag of the standby, as the primary measures it").set(lagSeconds)
        }
    }

    func leader(_ node: String, term: Int64?, isLeader: Bool) {
        registry.makeGauge(name: "drctl_leader_term", labels: [("node", node)],
                           help: "The leader term (etcd revision of the leader key) this agent last saw").set(Double(term ?? 0))
        registry.makeGauge(name: "drctl_is_leader", labels: [("node", node)],
                           help: "1 when this node holds the leader key").set(Double(isLeader ? 1 : 0))
    }

    func failover(_ evidence: FailoverEvidence) {
        let kind = evidence.reason.hasPrefix("switchover") ? "switchover" : "failover"
        registry.makeCounter(name: "drctl_\(kind)s_total", labels: [],
                             help: "\(kind == "switchover" ? "Switchovers" : "Failovers") completed by this agent's node").increment()
        registry.makeGauge(name: "drctl_last_\(kind)_rto_seconds", labels: [],
                           help: "Measured RTO of the last \(kind): first failed check (or old primary stopped) to DNS verified").set(evidence.rtoSeconds)
        if let lost = evidence.dataLostBytes {
            registry.makeGauge(name: "drctl_last_\(kind)_data_lost_bytes", labels: [],
                               help: "Bytes of WAL lost in the last \(kind)").set(Double(lost))
        }
    }

    func dnsUpdate(record: String, seconds: Double?, failed: Bool) {
        if let seconds {
            registry.makeGauge(name: "drctl_dns_update_duration_seconds", labels: [("record", record)],
                               help: "Time of the last DNS switch of the record, from the decision to verified").set(seconds)
        }
        if failed {
            registry.makeCounter(name: "drctl_dns_update_errors_total", labels: [("record", record)],
                                 help: "DNS switches of the record that failed").increment()
        }
    }
}
