import DRCore
import Foundation
import Metrics
import Prometheus
import Synchronization

/// The agent's Prometheus metrics: `drctl_` prefix, base units, `_total` counters, help
/// text on each (so `promtool check metrics` passes). One registry per process, also
/// bootstrapped as the swift-metrics backend.
public final class AgentMetrics: Sendable {
    public let registry = PrometheusCollectorRegistry()
    /// The last value of each counter mirrored from PostgreSQL, by name and node.
    private let mirrored = Mutex<[String: Int64]>([:])

    /// The `cluster` label every series carries (none when empty), so one Prometheus can
    /// tell the clusters of a fleet apart.
    let cluster: String

    public init(cluster: String) { self.cluster = cluster }

    /// Without the `cluster` label (tests, tools that serve one cluster).
    public convenience init() { self.init(cluster: "") }

    private func labelled(_ labels: [(String, String)]) -> [(String, String)] { cluster.isEmpty ? labels : [("cluster", cluster)] + labels }

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

    /// Creates the counters at zero, so that rates and alerts see a series before the
    /// first failure rather than none at all.
    public func prepare(nodes: [String], records: [String]) {
        for node in nodes {
            for result in ["pass", "fail"] {
                _ = counter("health_checks", [("node", node), ("result", result)], "Health checks of the node's database, by result")
            }
        }
        for node in nodes {
            _ = counter("etcd_records_skipped", [("node", node)], "etcd records the agent could not read and skipped (another version's, or a stray write)")
        }
        for record in records {
            _ = counter("dns_drift_repairs", [("record", record)], "Times the leader found the managed record changed behind its back and pointed it back")
            _ = counter("dns_update_errors", [("record", record)], "DNS switches of the record that failed")
        }
        for kind in ["failover", "switchover"] {
            _ = counter("\(kind)s", [], "\(kind == "switchover" ? "Switchovers" : "Failovers") completed by this agent's node")
        }
    }

    func gauge(_ name: String, _ labels: [(String, String)], _ help: String) -> Prometheus.Gauge {
        registry.makeGauge(descriptor: MetricNameDescriptor(namespace: "drctl", metricName: name, unitName: "", helpText: help), labels: labelled(labels))
    }

    /// `drctl_NAME_total`.
    func counter(_ name: String, _ labels: [(String, String)], _ help: String) -> Prometheus.Counter {
        registry.makeCounter(descriptor: MetricNameDescriptor(namespace: "drctl", metricName: name, unitName: "total", helpText: help), labels: labelled(labels))
    }

    /// `drctl_NAME_total{node}` following a counter PostgreSQL keeps: increased by what it
    /// grew since the last reading; after a statistics reset or a restart (it went down)
    /// by its new value, so the series only rises, as a Prometheus counter must.
    func mirror(_ name: String, _ node: String, _ value: Int64, _ help: String) {
        let growth = mirrored.withLock { last in
            defer { last["\(name)/\(node)"] = value }
            guard let previous = last["\(name)/\(node)"] else { return value }
            return value >= previous ? value - previous : value
        }
        counter(name, [("node", node)], help).increment(by: growth)
    }

    func backup(kind: String, finishedAt: Double?, seconds: Double?, bytes: UInt64) {
        if let finishedAt { gauge("backup_last_success_timestamp_seconds", [("kind", kind)], "When the newest backup of this kind finished (Unix time)").set(finishedAt) }
        if let seconds { gauge("backup_last_duration_seconds", [("kind", kind)], "How long the newest backup of this kind took").set(seconds) }
        gauge("backup_last_size_bytes", [("kind", kind)], "Size of the newest backup of this kind").set(Double(bytes))
    }

    func drill(_ name: String, passed: Bool, rto: Double?, rpo: Double?) {
        gauge("drill_last_passed", [("drill", name)], "1 when the drill's last run passed its objectives and validations").set(Double(passed ? 1 : 0))
        if let rto { gauge("drill_last_rto_seconds", [("drill", name)], "RTO measured by the drill's last run").set(rto) }
        if let rpo { gauge("drill_last_rpo_seconds", [("drill", name)], "RPO measured by the drill's last run").set(rpo) }
    }

    func jobMissed(_ job: String, count: Int) {
        counter("scheduled_job_missed_runs", [("job", job)], "Occurrences of the scheduled job that no agent ran").increment(by: Int64(count))
    }

    func jobFinished(_ job: String, succeeded: Bool) {
        counter("scheduled_job_runs", [("job", job), ("result", succeeded ? "success" : "failure")], "Runs of the scheduled job, by result").increment()
    }

    func nodeUp(_ node: String, _ up: Bool) {
        gauge("node_database_up", [("node", node)], "1 when the node's database passed its last health check, else 0").set(Double(up ? 1 : 0))
    }

    func healthCheck(_ node: String, passed: Bool) {
        counter("health_checks", [("node", node), ("result", passed ? "pass" : "fail")], "Health checks of the node's database, by result").increment()
    }

    func consecutiveFailures(_ node: String, _ count: Int) {
        gauge("health_check_consecutive_failures", [("node", node)], "Failed health checks in a row of the node's database").set(Double(count))
    }

    func replication(_ node: String, lagBytes: UInt64?, lagSeconds: Double?) {
        if let lagBytes {
            gauge("replication_lag_bytes", [("node", node)], "Bytes of WAL the standby has not received yet, against the primary's last published position").set(Double(lagBytes))
        }
        if let lagSeconds {
            gauge("replication_lag_seconds", [("node", node)], "Seconds of replication lag of the standby, as the primary measures it").set(lagSeconds)
        }
    }

    func leader(_ node: String, term: Int64?, isLeader: Bool) {
        gauge("leader_term", [("node", node)], "The leader term (etcd revision of the leader key) this agent last saw").set(Double(term ?? 0))
        gauge("is_leader", [("node", node)], "1 when this node holds the leader key").set(Double(isLeader ? 1 : 0))
    }

    func failsafe(_ node: String, _ status: FailsafeStatus?) {
        gauge("failsafe_active", [("node", node)], "1 while this node's database stays writable without etcd on its members' confirmations (failsafe)")
            .set(Double(status?.role == .leader ? 1 : 0))
        gauge("failsafe_confirming", [("node", node)], "1 while this node confirms a leader running without etcd and takes no leader key")
            .set(Double(status?.role == .member ? 1 : 0))
        gauge("failsafe_since_timestamp_seconds", [("node", node)], "When the failsafe episode under way began (Unix seconds), 0 when none")
            .set(Double(status?.sinceMillis ?? 0) / 1000)
    }

    func failover(_ evidence: FailoverEvidence) {
        let kind = evidence.reason.hasPrefix("switchover") ? "switchover" : "failover"
        counter("\(kind)s", [], "\(kind == "switchover" ? "Switchovers" : "Failovers") completed by this agent's node").increment()
        gauge("last_\(kind)_rto_seconds", [], "Measured RTO of the last \(kind): first failed check (or old primary stopped) to DNS verified").set(evidence.rtoSeconds)
        if let lost = evidence.dataLostBytes {
            gauge("last_\(kind)_data_lost_bytes", [], "Bytes of WAL lost in the last \(kind)").set(Double(lost))
        }
    }

    func etcdConnections(_ node: String, opened: Int) {
        gauge("etcd_connections_opened", [("node", node)], "TCP connections this agent has opened to etcd since it started (keep-alive: one per member in steady state)")
            .set(Double(opened))
    }

    /// What this agent asks of etcd in its loops, by purpose (`make bench` divides them
    /// by the loops: what a cluster costs a shared etcd, docs/fleet.md). A request that
    /// does several things is counted once under all of them joined by `+`: the loop's read
    /// carrying the leader's progress and the member record is `read+progress+member_record`.
    enum EtcdPurpose: String {
        /// The loop's read of every key, and the writes that ride in it.
        case read, progress, memberRecord = "member_record"
        /// Lease keep-alives (one request renews the leader's both when both are due).
        case leaderLease = "leader_lease", memberLease = "member_lease"
        /// The member lease granted (at start, or after it was lost).
        case memberLeaseGrant = "member_lease_grant"
    }

    func etcdRequest(_ node: String, _ purposes: EtcdPurpose...) { etcdRequest(node, purposes) }

    func etcdRequest(_ node: String, _ purposes: [EtcdPurpose]) {
        let purpose = purposes.map(\.rawValue).joined(separator: "+")
        counter("etcd_requests", [("node", node), ("purpose", purpose)], "Requests this agent's loops sent to etcd, by purpose").increment()
    }

    func etcdLeaderMoved() {
        counter("etcd_leader_moves", [], "Times this agent moved etcd's raft leader out of the primary's region").increment()
    }

    func skippedRecords(_ node: String, _ count: Int) {
        counter("etcd_records_skipped", [("node", node)], "etcd records the agent could not read and skipped (another version's, or a stray write)")
            .increment(by: Int64(count))
    }

    func dnsDriftRepaired(record: String) {
        counter("dns_drift_repairs", [("record", record)], "Times the leader found the managed record changed behind its back and pointed it back").increment()
    }

    func dnsUpdate(record: String, seconds: Double?, failed: Bool) {
        if let seconds {
            gauge("dns_update_duration_seconds", [("record", record)], "Time of the last DNS switch of the record, from the decision to verified").set(seconds)
        }
        if failed {
            counter("dns_update_errors", [("record", record)], "DNS switches of the record that failed").increment()
        }
    }
}

extension AgentMetrics {
    /// `drctl_preflight_findings{severity}` and when the preflight last ran.
    func archiveGaps(_ gaps: [ArchiveGaps.Gap]?) {
        guard let gaps else { return }
        gauge("wal_archive_missing_segments", [], "WAL segments missing from the archive between the oldest kept base backup's start and the archive's end (preflight)")
            .set(Double(gaps.reduce(0) { $0 + $1.count }))
    }

    func preflight(_ report: PreflightReport) {
        gauge("preflight_findings", [("severity", "blocking")], "Findings of the agent's latest preflight, by severity").set(Double(report.blocking))
        gauge("preflight_findings", [("severity", "warning")], "Findings of the agent's latest preflight, by severity").set(Double(report.warnings))
        gauge("preflight_last_run_timestamp_seconds", [], "When the agent's preflight last ran (Unix time)").set(Double(report.checkedAtMillis) / 1000)
    }
}
