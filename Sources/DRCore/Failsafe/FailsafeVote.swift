/// `POST /failsafe` on a member's agent API: the leader, unable to reach etcd, asks to be
/// confirmed under its term. Carries the term (a member that has seen a newer one refuses)
/// and the cluster name (a request for another cluster is refused).
public struct FailsafeRequest: Sendable, Equatable, Codable {
    public var cluster: String
    public var leader: String
    public var term: Int64
    /// The lease TTL the leader counts its deadline with, in milliseconds: the member's
    /// promise lasts at least this long from when it receives the request.
    public var ttlMillis: Int64
    /// The leader's wall-clock time of sending, in milliseconds: with a shared secret, a
    /// member refuses a request sent too long ago (a replay). Nothing else reads it.
    public var sentAtMillis: Int64?
    /// The member the request is for: with a shared secret, any other member refuses it (a
    /// request captured on its way to one member cannot make another promise).
    public var to: String?
    /// Random, once per request: with a shared secret a member hears each nonce once, and
    /// signs its answer over it, so an old answer cannot pass for a new confirmation.
    public var nonce: String?

    public init(cluster: String, leader: String, term: Int64, ttlMillis: Int64, sentAtMillis: Int64? = nil, to: String? = nil, nonce: String? = nil) {
        self.cluster = cluster
        self.leader = leader
        self.term = term
        self.ttlMillis = ttlMillis
        self.sentAtMillis = sentAtMillis
        self.to = to
        self.nonce = nonce
    }

    enum CodingKeys: String, CodingKey { case cluster, leader, term, ttlMillis = "ttl_ms", sentAtMillis = "sent_at_ms", to, nonce }
}

/// A member's answer: confirmed (with a promise to take no leader key for a TTL), or
/// refused with why.
public struct FailsafeAnswer: Sendable, Equatable, Codable {
    public var node: String
    public var accepted: Bool
    public var reason: String?
    /// The request's nonce, echoed (and covered by the answer's signature).
    public var nonce: String?

    public init(node: String, accepted: Bool, reason: String? = nil, nonce: String? = nil) {
        self.node = node
        self.accepted = accepted
        self.reason = reason
        self.nonce = nonce
    }
}

/// What a member knows when a failsafe request arrives.
public struct FailsafeVoter: Sendable, Equatable {
    public var me: String
    public var cluster: String
    /// `failover.failsafe` in this member's configuration.
    public var enabled: Bool
    public var local: LocalDatabase.State
    /// This agent holds the leader key, is taking it or is promoting.
    public var leadingOrTakingOver: Bool
    /// The newest leader term this agent has seen.
    public var lastTermSeen: Int64?
    /// The leader key as this agent last read it from etcd, when that read is fresh
    /// (nil: the key was free, or etcd is unreachable here too).
    public var etcdLeader: LeaderRecord?
    /// An operator asked for a failover or switchover (read from etcd): the leader must
    /// step down for it, so it is not confirmed.
    public var operatorIntent: Bool

    public init(
        me: String, cluster: String, enabled: Bool, local: LocalDatabase.State, leadingOrTakingOver: Bool, lastTermSeen: Int64?,
        etcdLeader: LeaderRecord? = nil, operatorIntent: Bool = false
    ) {
        self.me = me
        self.cluster = cluster
        self.enabled = enabled
        self.local = local
        self.leadingOrTakingOver = leadingOrTakingOver
        self.lastTermSeen = lastTermSeen
        self.etcdLeader = etcdLeader
        self.operatorIntent = operatorIntent
    }
}

public enum FailsafeVote {
    /// Whether `voter` confirms `request`. Pure; the agent records the promise when it does.
    /// Refusing is always safe (the leader fences at its usual deadline); confirming is safe
    /// because the promise outlasts the leader's writes and no node takes the key without etcd.
    public static func answer(_ request: FailsafeRequest, voter: FailsafeVoter) -> FailsafeAnswer {
        func refuse(_ why: String) -> FailsafeAnswer { FailsafeAnswer(node: voter.me, accepted: false, reason: why) }
        guard voter.enabled else { return refuse("failsafe is off in \(voter.me)'s configuration (failover.failsafe)") }
        guard request.cluster == voter.cluster else { return refuse("\(voter.me) belongs to cluster \(voter.cluster), not \(request.cluster)") }
        guard request.leader != voter.me else { return refuse("\(voter.me) cannot confirm itself") }
        guard request.ttlMillis > 0 else { return refuse("the request names no lease TTL") }
        if voter.local == .primary { return refuse("\(voter.me) accepts writes itself") }
        if voter.leadingOrTakingOver { return refuse("\(voter.me) holds or is taking the leader key") }
        if let seen = voter.lastTermSeen, seen > request.term {
            return refuse("\(voter.me) has seen a newer leader term (\(seen) > \(request.term))")
        }
        if let holder = voter.etcdLeader, holder.node != request.leader || holder.term != request.term {
            return refuse("etcd names \(holder.node) leader under term \(holder.term)")
        }
        if voter.operatorIntent { return refuse("an operator asked for a failover or switchover") }
        return FailsafeAnswer(node: voter.me, accepted: true)
    }
}
