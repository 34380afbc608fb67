/// One stretch during which the leader kept its database writable without etcd, written to
/// the history when etcd answers again (`drctl history` lists it beside the failovers).
public struct FailsafeEpisode: Sendable, Equatable, Codable {
    public var cluster: String
    public var leader: String
    public var term: Int64
    /// Wall-clock milliseconds on the leader's host (for people; nothing is decided by them).
    public var startedAtMillis: Int64
    public var endedAtMillis: Int64
    /// How long it lasted on the leader's monotonic clock.
    public var seconds: Double
    /// The members whose confirmations kept it writable.
    public var confirmedBy: [String]
    /// Rounds of confirmations asked.
    public var rounds: Int
    /// How it ended: etcd answered again, or the leader fenced itself (with why).
    public var outcome: String

    public init(
        cluster: String, leader: String, term: Int64, startedAtMillis: Int64, endedAtMillis: Int64, seconds: Double, confirmedBy: [String], rounds: Int,
        outcome: String
    ) {
        self.outcome = outcome
        self.cluster = cluster
        self.leader = leader
        self.term = term
        self.startedAtMillis = startedAtMillis
        self.endedAtMillis = endedAtMillis
        self.seconds = seconds
        self.confirmedBy = confirmedBy
        self.rounds = rounds
    }

    enum CodingKeys: String, CodingKey {
        case cluster, leader, term, seconds, rounds, outcome
        case startedAtMillis = "started_at_ms", endedAtMillis = "ended_at_ms", confirmedBy = "confirmed_by"
    }
}

/// An agent's failsafe state as its HTTP API (`/status`) and `drctl status` show it.
public struct FailsafeStatus: Sendable, Equatable, Codable {
    public enum Role: String, Sendable, Codable {
        /// This node's database stays writable without etcd on its members' confirmations.
        case leader
        /// This node confirmed such a leader and takes no leader key meanwhile.
        case member
    }

    public var role: Role
    public var leader: String
    public var term: Int64?
    /// Since when (wall-clock milliseconds of the reporting agent).
    public var sinceMillis: Int64
    /// Leader: the members whose confirmations it holds.
    public var confirmedBy: [String]

    public init(role: Role, leader: String, term: Int64?, sinceMillis: Int64, confirmedBy: [String]) {
        self.role = role
        self.leader = leader
        self.term = term
        self.sinceMillis = sinceMillis
        self.confirmedBy = confirmedBy
    }

    enum CodingKeys: String, CodingKey {
        case role, leader, term
        case sinceMillis = "since_ms", confirmedBy = "confirmed_by"
    }
}
