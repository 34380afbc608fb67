import DRCore
import Foundation

/// The events this agent reports to `notifications:`, each with a key every agent that
/// sees the same happening derives alike (a failover's term, a fence's node and term), so
/// the dispatcher sends it once cluster-wide.
extension NodeAgent {
    func notify(
        _ kind: NotificationEvent.Kind, _ severity: NotificationEvent.Severity, _ summary: String, key: String, details: [String: String] = [:],
        resolves: Bool = false
    ) {
        if notifiedKeys.count > 1000 { notifiedKeys.removeAll() }
        guard notifiedKeys.insert(key + (resolves ? "/resolved" : "")).inserted else { return }
        notifier.notify(
            NotificationEvent(
                kind: kind, severity: severity, cluster: config.cluster, node: node.name, summary: summary, details: details, dedupKey: key,
                resolves: resolves, at: Date(timeIntervalSince1970: Double(clock.wallMillis) / 1000)))
    }

    /// A promotion after the primary was lost (a switchover is planned: no page for it).
    func notifyFailover(_ record: FailoverEvidence) {
        guard !record.reason.hasPrefix("switchover") else { return }
        let lost = record.dataLostSeconds.map { String(format: "%.2f s", $0) } ?? "unknown"
        notify(
            .failover, .critical,
            "failover: \(record.promoted) promoted (term \(record.term)) after \(record.previousPrimary ?? "the primary") was lost; RTO \(String(format: "%.2f", record.rtoSeconds)) s, data lost \(lost)",
            key: "failover-term-\(record.term)",
            details: [
                "promoted": record.promoted, "previous_primary": record.previousPrimary ?? "unknown", "term": "\(record.term)",
                "rto_seconds": String(format: "%.2f", record.rtoSeconds), "data_lost_seconds": lost,
                "data_lost_bytes": record.dataLostBytes.map(String.init) ?? "unknown", "reason": record.reason,
            ])
    }

    func notifyFence(_ reason: Reason, failure: String?) {
        let term = lastTermSeen ?? 0
        if let failure {
            notify(
                .fence, .critical, "\(node.name) must be fenced but could not be: \(failure); stop its database by hand",
                key: "fence-failed-\(node.name)-term-\(term)", details: ["reason": "\(reason)", "error": failure])
        } else {
            notify(
                .fence, .critical, "\(node.name) was fenced (its database stopped): \(reason); `drctl rejoin \(node.name)` brings it back as a standby",
                key: "fence-\(node.name)-term-\(term)", details: ["reason": "\(reason)"])
        }
    }

    func notifyHold(_ reason: Reason) {
        // The reason's kind, not its numbers: a lag that changes is the same wait.
        let kind = String("\(reason)".prefix { $0 != "(" })
        notify(
            .manualIntervention, .critical, "\(node.name) waits for an operator: \(reason)", key: "hold-\(node.name)-term-\(lastTermSeen ?? 0)-\(kind)",
            details: ["reason": "\(reason)"])
    }

    /// Reported once etcd has been silent for a lease TTL (a blip is no page), resolved when
    /// it answers again. Sent by every agent cut off (none can know another did).
    func etcdUnreachable(_ error: any Error) {
        if etcdLostAt == nil { etcdLostAt = now }
        guard !etcdLossNotified, let since = etcdLostAt, now - since >= config.coordination.leaseTTL else { return }
        etcdLossNotified = true
        notify(
            .etcdUnreachable, .critical,
            "etcd does not answer \(node.name)'s agent: no automatic failover can happen until it does", key: "etcd-unreachable-\(config.cluster)",
            details: ["error": "\(error)"])
    }

    func etcdAnswered() {
        if etcdLossNotified {
            // The next outage is a new event.
            notifiedKeys.remove("etcd-unreachable-\(config.cluster)")
            notifiedKeys.remove("etcd-unreachable-\(config.cluster)/resolved")
            notify(.etcdUnreachable, .info, "etcd answers \(node.name)'s agent again", key: "etcd-unreachable-\(config.cluster)", resolves: true)
        }
        etcdLostAt = nil
        etcdLossNotified = false
    }
}
