/// Which standby holds every acknowledged commit, as the leader records it in etcd (the
/// `sync` key, after Patroni's `/sync`): in synchronous mode only a standby named here by
/// the lost leader may be promoted without an operator.
public struct SynchronousRecord: Sendable, Equatable, Codable {
    /// The leader that wrote it; a record of another leader says nothing about this one's commits.
    public var leader: String
    public var term: Int64
    /// The standbys every commit acknowledged since they were recorded waited for.
    public var standbys: [String]

    public init(leader: String, term: Int64, standbys: [String]) {
        self.leader = leader
        self.term = term
        self.standbys = standbys
    }
}

/// How the leader moves `synchronous_standby_names` and the etcd record so that the record
/// never names a standby that may miss an acknowledged commit (safety invariant 3):
///
/// - a standby leaves the record *before* PostgreSQL stops waiting for it;
/// - a standby joins the record only *after* PostgreSQL waits for it and it has flushed
///   everything written before that (`confirmed`).
///
/// One synchronous standby at a time (PostgreSQL's `FIRST 1`): every acknowledged commit
/// is then on that one node, which can be proven from the record alone.
public enum SynchronousReplication {
    /// PostgreSQL's wildcard: commits wait for whichever standby connects (strict mode with
    /// no healthy standby). Never recorded: it names no node.
    public static let anyStandby = "*"

    /// The standby to keep synchronous: the current one while it stays a healthy
    /// candidate, else the best healthy candidate (most WAL, then priority), else none.
    public static func pick(current: [String], members: [MemberRecord], me: String) -> [String] {
        let candidates = SafetyChecks.rankCandidates(members.filter { $0.name != me }, timeline: nil)
        if let kept = current.first(where: { name in candidates.contains { $0.name == name } }) { return [kept] }
        return candidates.first.map { [$0.name] } ?? []
    }

    /// The leader's next step towards `desired`, one per loop, or nil when settled.
    /// - Parameters:
    ///   - record: the `sync` key as read (any leader's).
    ///   - configured: the standbys `synchronous_standby_names` names now.
    ///   - confirmed: standbys PostgreSQL counts as synchronous that have flushed past the
    ///     WAL position at which they were first configured.
    ///   - strict: with no healthy standby, commits keep waiting (writes block) instead of
    ///     the primary running asynchronously.
    public static func nextStep(
        me: String, term: Int64, record: SynchronousRecord?, configured: [String], confirmed: [String],
        members: [MemberRecord], strict: Bool, commitsSkipSynchronous: Bool = false
    ) -> Action? {
        var desired = pick(current: configured, members: members, me: me)
        if desired.isEmpty, strict { desired = configured.isEmpty ? [anyStandby] : configured }
        let recorded = record?.leader == me ? Set(record?.standbys ?? []) : nil
        // Only a standby PostgreSQL waits for *now* may stay recorded: one taken out of
        // synchronous_standby_names behind the agent's back (an operator, a script) misses
        // commits from that moment, so the record shrinks before anything is set back.
        let waitedFor = configured.contains(anyStandby) ? (recorded ?? []) : Set(configured)
        var kept = (recorded ?? []).intersection(desired).intersection(waitedFor)
        // Commits that never wait for a standby (synchronous_commit local or off somewhere):
        // no standby holds them all, so none is recorded and no failover claims zero loss.
        if commitsSkipSynchronous { kept = [] }
        if recorded == nil || kept != recorded {
            // Shrink (or claim) the record before PostgreSQL stops waiting for anyone in it.
            return .recordSynchronous(kept.sorted(), term: term)
        }
        if configured.sorted() != desired.sorted() { return .setSynchronousStandbys(desired, term: term) }
        let joining = Set(desired).intersection(confirmed).subtracting(kept).subtracting([anyStandby])
        if !joining.isEmpty, !commitsSkipSynchronous { return .recordSynchronous(kept.union(joining).sorted(), term: term) }
        return nil
    }
}
