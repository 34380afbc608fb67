import Foundation

/// Something that must reach a person, not only a log line: sent to every channel of
/// `notifications:` that subscribes to its kind, once per `dedupKey` cluster-wide.
public struct NotificationEvent: Sendable, Equatable, Codable {
    public enum Kind: String, Sendable, Equatable, Codable, CaseIterable {
        /// A standby was promoted after the primary was lost.
        case failover
        /// An agent stopped (or could not stop) a database that must not take writes.
        case fence
        /// An agent waits for an operator (beyond the RPO, a primary promoted without etcd
        /// while another is alive, ...).
        case manualIntervention = "manual-intervention"
        /// A managed DNS record could not be switched to the leader.
        case dnsFailed = "dns-failed"
        /// A scheduled backup failed, or its occurrence was missed.
        case backupFailed = "backup-failed"
        /// A scheduled drill failed, or its occurrence was missed.
        case drillFailed = "drill-failed"
        /// An agent lost etcd for longer than a lease TTL (no automatic failover meanwhile).
        case etcdUnreachable = "etcd-unreachable"
        /// Two databases accept writes (one promoted by hand while the leader still runs).
        case splitBrain = "split-brain"
    }

    public enum Severity: String, Sendable, Equatable, Codable {
        case critical, error, warning, info
    }

    public var kind: Kind
    public var severity: Severity
    public var cluster: String
    /// The node the event is about (for a job: the agent's node that ran it).
    public var node: String
    /// One line a person reads first.
    public var summary: String
    public var details: [String: String]
    /// The same for every report of the same happening (a failover's term, a job's
    /// occurrence): one notification per key cluster-wide, and PagerDuty's incident key.
    public var dedupKey: String
    /// The condition ended (etcd is back): PagerDuty resolves the incident.
    public var resolves: Bool
    /// ISO 8601, on the sending agent's clock.
    public var at: String

    public init(
        kind: Kind, severity: Severity, cluster: String, node: String, summary: String, details: [String: String] = [:], dedupKey: String,
        resolves: Bool = false, at: Date = Date()
    ) {
        self.kind = kind
        self.severity = severity
        self.cluster = cluster
        self.node = node
        self.summary = summary
        self.details = details
        self.dedupKey = dedupKey
        self.resolves = resolves
        self.at = UTCTime.iso8601(at)
    }

    enum CodingKeys: String, CodingKey {
        case kind, severity, cluster, node, summary, details, at, resolves
        case dedupKey = "dedup_key"
    }
}
