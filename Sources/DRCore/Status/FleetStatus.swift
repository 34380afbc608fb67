/// `drctl status --all`: one line per cluster under one etcd prefix, judged from what the
/// clusters' agents publish there (leader key, member records, history) — no database is
/// probed, so it answers for a fleet whose nodes this host cannot reach.
public struct FleetStatus: Sendable, Equatable, Codable {
    public struct Row: Sendable, Equatable, Codable {
        public var cluster: String
        /// `healthy`, `degraded` or `no-primary`, from the agents' records.
        public var verdict: ClusterVerdict
        public var leader: String?
        public var term: Int64?
        /// The largest replication lag a member reports, in bytes.
        public var maxLagBytes: UInt64?
        public var paused: Bool
        /// The newest failover or switchover: who was promoted, when, its measured RTO.
        public var lastFailover: String?
        /// Why not healthy.
        public var problems: [String]

        enum CodingKeys: String, CodingKey {
            case cluster, verdict, leader, term, paused, problems
            case maxLagBytes = "max_lag_bytes", lastFailover = "last_failover"
        }
    }

    public var clusters: [Row]

    public init(clusters: [Row]) { self.clusters = clusters }

    /// A cluster's line from its snapshot and its newest history record.
    public static func row(cluster: String, snapshot: CoordinationSnapshot, lastFailover: FailoverEvidence?) -> Row {
        var problems: [String] = []
        let leader = snapshot.leader
        let leaderRecord = leader.flatMap { leader in snapshot.members.first { $0.name == leader.node } }
        if leader == nil {
            problems.append("no node holds the leader key")
        } else if leaderRecord?.role != .primary {
            problems.append("\(leader?.node ?? "?") holds the leader key but does not report a primary database")
        }
        for member in snapshot.members.sorted(by: { $0.name < $1.name }) where member.name != leader?.node && !member.healthy {
            problems.append("\(member.name) is \(member.role.rawValue), not a healthy standby")
        }
        if let hold = snapshot.members.compactMap(\.hold).first { problems.append(hold) }
        let verdict: ClusterVerdict =
            leader == nil || leaderRecord?.role != .primary ? .noPrimary : problems.isEmpty ? .healthy : .degraded
        let last = lastFailover.map { evidence in
            "\(evidence.previousPrimary ?? "?") -> \(evidence.promoted) at \(evidence.finishedAt), RTO \(evidence.rtoSeconds.formatted2)s"
        }
        return Row(
            cluster: cluster, verdict: verdict, leader: leader?.node, term: leader?.term, maxLagBytes: snapshot.members.compactMap(\.lagBytes).max(),
            paused: snapshot.paused, lastFailover: last, problems: problems)
    }

    /// 0 only when every cluster is healthy (the `drctl status` exit-code contract).
    public var isHealthy: Bool { clusters.allSatisfy { $0.verdict == .healthy } }
}

extension Double {
    fileprivate var formatted2: String {
        let hundredths = Int((self * 100).rounded()), fraction = hundredths % 100
        return "\(hundredths / 100).\(fraction < 10 ? "0" : "")\(fraction)"
    }
}
