/// An operator's planned switchover (`drctl switchover --to NODE [--at TIME]`), kept in
/// etcd and carried out by the agents in two phases: the leader stops its database cleanly
/// (every WAL record reaches the connected standbys) and records where its WAL ended; the
/// target, once it has received that much, takes the key and promotes. Zero data loss by LSN.
public struct SwitchoverIntent: Sendable, Equatable, Codable {
    public enum Phase: String, Sendable, Equatable, Codable {
        /// Waiting for the leader to hand over (at or after `notBeforeMillis`).
        case requested
        /// The old primary is stopped; its WAL ended at `endLSN`.
        case demoted
    }

    public var to: String
    public var phase: Phase
    /// Wall-clock milliseconds before which the leader does not start (`--at`).
    public var notBeforeMillis: Int64?
    public var requestedAtMillis: Int64
    /// Set when demoted: who handed over, when (its wall clock: for people only; the
    /// target times the switchover from when it reads this phase), and the end of its WAL.
    public var from: String?
    public var demotedAtMillis: Int64?
    public var endLSN: LSN?

    public init(
        to: String, phase: Phase = .requested, notBeforeMillis: Int64? = nil, requestedAtMillis: Int64,
        from: String? = nil, demotedAtMillis: Int64? = nil, endLSN: LSN? = nil
    ) {
        self.to = to
        self.phase = phase
        self.notBeforeMillis = notBeforeMillis
        self.requestedAtMillis = requestedAtMillis
        self.from = from
        self.demotedAtMillis = demotedAtMillis
        self.endLSN = endLSN
    }

    enum CodingKeys: String, CodingKey {
        case to, phase, from
        case notBeforeMillis = "not_before_ms", requestedAtMillis = "requested_at_ms", demotedAtMillis = "demoted_at_ms", endLSN = "end_lsn"
    }
}

/// Why a switchover cannot start now; the CLI refuses with it, changing nothing.
public enum SwitchoverCheck {
    /// The refusal for switching over to `target`, or nil when it may go ahead.
    public static func refusal(
        to target: String, leader: LeaderRecord?, members: [MemberRecord], primaryProgress: PrimaryProgress?,
        paused: Bool, failoverPending: Bool, switchoverPending: Bool, lagLimit: Duration
    ) -> String? {
        if paused { return "the cluster is paused (maintenance): `drctl resume` first" }
        if failoverPending || switchoverPending { return "another operation is in flight (a \(failoverPending ? "failover" : "switchover") intent exists)" }
        guard let leader else { return "no node holds the leader key: a switchover needs a running primary (for a lost primary use `drctl failover`)" }
        if leader.node == target { return "\(target) is already the primary (term \(leader.term))" }
        guard let member = members.first(where: { $0.name == target }) else { return "\(target) has no live agent publishing its state" }
        guard member.role == .standby, member.healthy else { return "\(target) is not a healthy standby (it reports \(member.role.rawValue))" }
        if member.nofailover { return "\(target) is tagged nofailover" }
        guard let lag = primaryProgress?.standbyLagSeconds[target] else { return "\(target) is not streaming from the primary (no replication lag reported)" }
        if lag > lagLimit.seconds {
            return "\(target) is \(lag)s behind the primary, beyond the \(DurationText.format(lagLimit)) limit"
        }
        return nil
    }
}
