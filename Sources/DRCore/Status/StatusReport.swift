/// The cluster verdict of `drctl status`, in the words of the CLI contract (docs/design.md).
public enum ClusterVerdict: String, Sendable, Equatable, Codable {
    case healthy
    case degraded
    case noPrimary = "no-primary"
    case manualIntervention = "manual-intervention"
    case splitBrain = "split-brain"
}

/// A node's role as `status` reports it.
public enum NodeRole: String, Sendable, Equatable, Codable {
    case primary, standby, fenced, down, unknown

    /// A role this version does not know (a newer agent's) reads as `unknown`: such a
    /// member is never a candidate and never counted as a primary, but its record is used.
    public init(from decoder: any Decoder) throws {
        self = NodeRole(rawValue: try decoder.singleValueContainer().decode(String.self)) ?? .unknown
    }
}

/// What `drctl status` shows: one row per node and the verdict, with the reasons behind it.
/// Its JSON form is part of the CLI contract (docs/design.md): fields may be added, never renamed.
public struct StatusReport: Sendable, Equatable, Codable {
    public var cluster: String
    public var verdict: ClusterVerdict
    /// Why the verdict is not `healthy`, one sentence each; empty when healthy.
    public var problems: [String]
    public var leader: String?
    public var term: Int?
    /// Maintenance mode: the agents take no automatic action.
    public var paused: Bool = false
    public var nodes: [NodeStatus]
    /// etcd is unreachable and the leader stays writable on its members' confirmations
    /// (as the leader's agent reports it); null otherwise.
    public var failsafe: FailsafeStatus? = nil
    /// Each region agent's latest preflight, as published in etcd (nil: not read).
    public var preflight: [PreflightReport]? = nil

    public struct NodeStatus: Sendable, Equatable, Codable {
        public var name: String
        public var region: String
        public var role: NodeRole
        public var reachable: Bool
        public var host: String
        public var port: Int
        public var timeline: Int?
        /// Primary: current WAL position; standby: last replayed position.
        public var lsn: LSN?
        public var receiveLSN: LSN?
        public var replayLSN: LSN?
        public var lagBytes: UInt64?
        public var lagSeconds: Double?
        /// Replication state of a standby (`streaming`, `catchup`, …) and its sync mode.
        public var replication: String?
        public var syncState: String?
        public var serverVersion: Int?
        /// A changed setting waits for a restart of the node's database (`drctl restart`).
        public var pendingRestart: Bool = false
        /// Why the node is down or unknown.
        public var error: String?

        enum CodingKeys: String, CodingKey {
            case name, region, role, reachable, host, port, timeline, lsn
            case receiveLSN = "receive_lsn", replayLSN = "replay_lsn", lagBytes = "lag_bytes", lagSeconds = "lag_seconds"
            case replication, syncState = "sync_state", serverVersion = "server_version", error
            case pendingRestart = "pending_restart"
        }
    }

    /// Status exit code contract: 0 only when healthy.
    public var isHealthy: Bool { verdict == .healthy }

    // Encode nil as JSON null: the contract lists these keys as always present.
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(cluster, forKey: .cluster)
        try c.encode(verdict, forKey: .verdict)
        try c.encode(problems, forKey: .problems)
        try c.encode(leader, forKey: .leader)
        try c.encode(term, forKey: .term)
        try c.encode(paused, forKey: .paused)
        try c.encode(nodes, forKey: .nodes)
        try c.encode(failsafe, forKey: .failsafe)
        try c.encodeIfPresent(preflight, forKey: .preflight)
    }

    enum CodingKeys: String, CodingKey { case cluster, verdict, problems, leader, term, paused, nodes, failsafe, preflight }
}

extension StatusReport.NodeStatus {
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(name, forKey: .name)
        try c.encode(region, forKey: .region)
        try c.encode(role, forKey: .role)
        try c.encode(reachable, forKey: .reachable)
        try c.encode(host, forKey: .host)
        try c.encode(port, forKey: .port)
        try c.encode(timeline, forKey: .timeline)
        try c.encode(lsn, forKey: .lsn)
        try c.encode(receiveLSN, forKey: .receiveLSN)
        try c.encode(replayLSN, forKey: .replayLSN)
        try c.encode(lagBytes, forKey: .lagBytes)
        try c.encode(lagSeconds, forKey: .lagSeconds)
        try c.encode(replication, forKey: .replication)
        try c.encode(syncState, forKey: .syncState)
        try c.encode(serverVersion, forKey: .serverVersion)
        try c.encode(pendingRestart, forKey: .pendingRestart)
        try c.encode(error, forKey: .error)
    }
}
