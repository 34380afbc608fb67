/// The named safety checks `decide` is built from. Each is a small pure function with
/// its own exhaustive tests, so a reviewer can trust them one at a time.
public enum SafetyChecks {
    /// The local instant by which a leader must have renewed again, or fence: the last
    /// confirmed renewal's *send* time plus the TTL, less a margin. etcd counts the TTL
    /// from when it received that renewal, which is later, so the local deadline always
    /// comes first — the old primary stops before anyone else may start.
    public static func leaseDeadline(_ lease: LeaseBookkeeping, margin: Duration) -> AgentInstant {
        lease.lastConfirmedRenewalSentAt + lease.ttl - margin
    }

    public static func mustSelfFence(_ lease: LeaseBookkeeping?, now: AgentInstant, margin: Duration) -> Bool {
        guard let lease else { return false }
        return now >= leaseDeadline(lease, margin: margin)
    }

    /// Members that may be promoted, best first: healthy standbys on the last primary's
    /// timeline, not tagged `nofailover`; those that had everything at the primary's last
    /// progress (`progress`, written every loop the position moved) before those that
    /// did not, then by position — the newer of the member's own record (written only when
    /// something material changed, `PublicationSchedule`, so it may be old) and what the
    /// progress saw it flush —, then priority, then name (so every agent computes the same
    /// order).
    public static func rankCandidates(_ members: [MemberRecord], timeline: Int?, progress: PrimaryProgress? = nil) -> [MemberRecord] {
        func caughtUp(_ member: MemberRecord) -> Bool { progress?.standbyLagSeconds[member.name] == 0 }
        func position(_ member: MemberRecord) -> LSN { max(member.lsn ?? .zero, progress?.standbyLSN[member.name] ?? .zero) }
        return
            members
            .filter { $0.role == .standby && $0.healthy && !$0.nofailover && $0.lsn != nil }
            .filter { timeline == nil || $0.timeline == timeline }
            .sorted { a, b in
                if caughtUp(a) != caughtUp(b) { return caughtUp(a) }
                if position(a) != position(b) { return position(a) > position(b) }
                if a.priority != b.priority { return a.priority > b.priority }
                return a.name < b.name
            }
    }

    public enum RPOVerdict: Sendable, Equatable {
        case within(lossBytes: UInt64, lossSeconds: Double)
        /// Beyond the RPO, or the loss cannot be bounded; `lossBytes`/`lossSeconds` are
        /// nil when unknown.
        case beyond(lossBytes: UInt64?, lossSeconds: Double?)
    }

    /// Estimated data loss if `candidate` were promoted now: the WAL between its received
    /// position and the primary's last published one, and — when that is not zero — the
    /// delay the primary last measured for it. Unknown means beyond: drctl never guesses
    /// in favour of losing data.
    public static func rpoGate(candidate: String, candidateLSN: LSN?, primaryProgress: PrimaryProgress?, rpo: Duration) -> RPOVerdict {
        guard let primaryProgress, let candidateLSN else { return .beyond(lossBytes: nil, lossSeconds: nil) }
        // A leader lost between its claim and its first real progress: what it acknowledged
        // meanwhile is unknown (its own record is its own business: it lost nothing).
        if primaryProgress.startOfTerm, primaryProgress.node != candidate { return .beyond(lossBytes: nil, lossSeconds: nil) }
        let bytes = primaryProgress.lsn.bytesAhead(of: candidateLSN)
        if bytes == 0 { return .within(lossBytes: 0, lossSeconds: 0) }
        guard let seconds = primaryProgress.standbyLagSeconds[candidate] else { return .beyond(lossBytes: bytes, lossSeconds: nil) }
        return seconds <= rpo.seconds ? .within(lossBytes: bytes, lossSeconds: seconds) : .beyond(lossBytes: bytes, lossSeconds: seconds)
    }

    /// Whether an executor may carry out `action` now that `leader` holds the key: actions
    /// with a term need that exact term still current, and promotion and lease renewal need
    /// this node to be the holder. Stale actions are refused, so a deposed agent can never
    /// act — or flip DNS — under an old term.
    public static func permits(_ action: Action, leader: LeaderRecord?, me: String) -> Bool {
        guard let term = action.term else { return true }
        guard let leader, leader.term == term else { return false }
        switch action {
        case .renewLease, .releaseLeadership, .promote, .setSynchronousStandbys, .recordSynchronous, .restartDatabase, .keepSlots, .crashForDrill, .switchDNS, .handOver,
            .publishFailsafe, .restartInPlace:
            return leader.node == me
        case .follow(_, let target, _), .rejoin(_, let target, _), .cloneStandby(_, let target, _): return leader.node == target
        case .acquireLeadership, .fence, .resumeAsStandby, .askFailsafeMembers, .holdForOperator, .alert, .dropRestartRequest, .guardRestart: return true
        }
    }
}
