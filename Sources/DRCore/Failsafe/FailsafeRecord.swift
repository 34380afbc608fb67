/// The `failsafe` key: the members a leader must hear from to stay writable while etcd
/// cannot be reached (`failover.failsafe`, after Patroni 3's `failsafe_mode`).
///
/// The leader writes it under its term whenever the live membership changes. Every agent
/// keeps the last one it read (also on disk, for a restart during an outage): the leader
/// asks exactly these members, and a node that is not listed never takes the key from the
/// leader that wrote it — it may not have been asked, so it made no promise.
public struct FailsafeRecord: Sendable, Equatable, Codable {
    public var leader: String
    public var term: Int64
    /// Every member whose agent was live (or live within a grace period) when the leader
    /// wrote this, the leader included; sorted.
    public var members: [String]

    public init(leader: String, term: Int64, members: [String]) {
        self.leader = leader
        self.term = term
        self.members = Array(Set(members)).sorted()
    }

    /// The members the leader must hear from: all but itself.
    public var others: [String] { members.filter { $0 != leader } }

    /// One line for a state file: `LEADER TERM MEMBER,MEMBER,…`.
    public var line: String { "\(leader) \(term) \(members.joined(separator: ","))" }

    public init?(line: String) {
        let fields = line.split(whereSeparator: \.isWhitespace).map(String.init)
        guard fields.count == 3, let term = Int64(fields[1]) else { return nil }
        self.init(leader: fields[0], term: term, members: fields[2].split(separator: ",").map(String.init))
    }
}

/// A member's promise to a leader running without etcd: this node takes no leader key
/// before `until` (its own clock). The leader stays writable only until its request's send
/// time plus the TTL, less the fencing margin, so the promise always outlasts the writes it
/// covers — the same arithmetic as the etcd lease.
public struct FailsafePromise: Sendable, Equatable {
    public var leader: String
    public var term: Int64
    public var until: AgentInstant

    public init(leader: String, term: Int64, until: AgentInstant) {
        self.leader = leader
        self.term = term
        self.until = until
    }

    public func binds(_ node: String, at now: AgentInstant) -> Bool { leader != node && now < until }
}
