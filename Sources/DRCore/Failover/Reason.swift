/// Why `decide` asked for an action, or holds for an operator: a value with the numbers as
/// fields, so tests compare it; `description` renders the sentence logs, `drctl status`
/// and the member record show.
public enum Reason: Sendable, Equatable, CustomStringConvertible {
    // Taking the leader key.
    case onlyPrimaryKeyFree(node: String)
    case bestCandidateWithinRPO(node: String)
    case dataLossAccepted(node: String)
    case synchronousStandby(node: String)
    case switchoverTarget(node: String, from: String?, receivedUpTo: LSN)
    case lostLeaderHoldsEveryCommit(node: String)

    // Leaving a fence.
    case lastLeaderResumes(node: String)

    // Restarting in place.
    case restartRequested(node: String, pendingOnly: Bool)
    case ownPrimaryCameBackReadOnly(node: String, term: Int64)
    case noPendingRestart(node: String)
    case notRestartable(node: String, state: String)

    // Fencing and releasing.
    case agentStopping
    case leaseRenewalOverdue
    case unleasedWithoutEtcd
    case databaseFailedChecks(Int)
    case postmasterGone
    case otherLeader(node: String, term: Int64)
    case otherPrimary(node: String)
    case switchoverHandedOver(to: String, walEnd: LSN)
    case switchoverFailed(error: String)

    // Holding for an operator.
    case rejoinFailed(node: String, message: String)
    case fencedUntilRejoined(node: String)
    case cloneFailed(node: String, message: String)
    case nothingToCloneFrom(node: String)
    case cannotFollow(node: String, timeline: Int, leader: String, leaderTimeline: Int)
    case lastLeaderCannotStart(node: String)
    case fenceFailed(node: String)
    case switchoverTargetUnhealthy(target: String)
    case twoPrimaries(forced: String, leader: String, term: Int64)
    case cooldown(sinceLastFailover: Duration, cooldown: Duration)
    /// `recorded`: the standbys the lost leader recorded as synchronous (none: it ran asynchronously).
    case synchronousStandbyUnavailable(node: String, recorded: [String])
    case timelineMismatch(node: String, timeline: Int?, lostPrimaryTimeline: Int)
    case beyondRPO(node: String, rpo: Duration, lossBytes: UInt64?, lossSeconds: Double?)
    case notFailsafeMember(node: String, leader: String)
    /// A writable node that did not lead last (promoted by hand while its agent was stopped):
    /// `lastLeader` went on writing on `timeline` after it forked off.
    case writableButNotLastLeader(node: String, lastLeader: String, timeline: Int)

    // Alerts.
    case fencedItselfLeaseOverdue(node: String)
    case fencedItselfUnleased(node: String)
    case forcedSplitBrain(node: String, leader: String)

    public var description: String {
        switch self {
        case .onlyPrimaryKeyFree(let node): "\(node) is the only primary and the leader key is free"
        case .bestCandidateWithinRPO(let node): "leader key free; \(node) is the best candidate within the RPO"
        case .dataLossAccepted(let node): "leader key free; an operator's failover to \(node) accepted losing data beyond the RPO (--accept-data-loss)"
        case .synchronousStandby(let node): "\(node) was the synchronous standby: no acknowledged commit is lost"
        case let .switchoverTarget(node, from, lsn): "switchover from \(from ?? "the old primary"): \(node) has received its WAL up to \(lsn)"
        case .lostLeaderHoldsEveryCommit(let node): "\(node) led last and holds every acknowledged commit in its own WAL"
        case .lastLeaderResumes(let node):
            "\(node) led last and holds every commit; the leader key is free and no other node can take over: it leaves its fence as a read-only standby"
        case let .restartRequested(node, pendingOnly):
            "an operator asked for \(node)'s database to be restarted in place\(pendingOnly ? " (a changed setting waits for it)" : "")"
        case let .ownPrimaryCameBackReadOnly(node, term):
            "\(node)'s database came back read-only (restarted outside the agent) although \(node) has led as primary under term \(term) and nobody else can have written: it is started again as the primary on its own timeline"
        case .noPendingRestart(let node): "\(node) has no setting waiting for a restart: nothing to do (--pending-only)"
        case let .notRestartable(node, state):
            "\(node)'s database is \(state): only a running primary that leads, or a running standby, is restarted in place"
        case .agentStopping: "agent stopping while it holds the leader key"
        case .leaseRenewalOverdue: "leader lease not renewed in time; another node may be promoted"
        case .unleasedWithoutEtcd: "writable without a confirmed leader lease while etcd is unreachable"
        case .databaseFailedChecks(let count): "database failed \(count) health checks in a row"
        case .postmasterGone: "postmaster process gone (database crashed)"
        case let .otherLeader(node, term): "\(node) holds leadership (term \(term))"
        case .otherPrimary(let node): "\(node) also reports itself primary"
        case let .switchoverHandedOver(to, end): "switchover to \(to); WAL ends at \(end)"
        case .switchoverFailed(let error): "switchover failed: \(error)"
        case let .rejoinFailed(node, message):
            "automatic rejoin of \(node) failed: \(message); it is tried again every 30 s, or fix it, then `drctl rejoin \(node)`"
        case .fencedUntilRejoined(let node): "\(node) is fenced; bring it back with `drctl rejoin \(node)`"
        case let .cloneFailed(node, message):
            "building \(node) as a standby failed: \(message); it is tried again every 30 s, or fix it, then `drctl reinit \(node)`"
        case .nothingToCloneFrom(let node):
            "\(node)'s data directory is empty and no writable leader exists to build a standby from: restore one (`drctl region activate`, runbooks/cold-region-activation.md)"
        case .lastLeaderCannotStart(let node):
            "\(node) led last and holds every commit, but starting it read-only failed; it is tried again every 30 s: see its PostgreSQL log"
        case let .cannotFollow(node, timeline, leader, leaderTimeline):
            "\(node) stays on timeline \(timeline) and does not stream from \(leader) (timeline \(leaderTimeline)): its WAL went past the fork; rewind it with `drctl rejoin \(node)`"
        case .fenceFailed(let node):
            "fencing \(node) failed, so its database may still accept writes: the leader key is kept and nothing is promoted. "
                + "Stop it by hand (pg_ctl stop -m immediate, or power the host off); the next loop then releases the key"
        case .switchoverTargetUnhealthy(let target): "switchover to \(target) waits: it is not a healthy standby"
        case let .twoPrimaries(forced, leader, term): "two primaries: \(forced) (forced) and \(leader) (leader, term \(term))"
        case let .cooldown(since, cooldown):
            "primary lost, but the last failover was \(DurationText.format(since)) ago (cooldown \(DurationText.format(cooldown)), "
                + "\(DurationText.format(cooldown - since)) left); `drctl failover` overrides"
        case let .synchronousStandbyUnavailable(node, recorded):
            "manual intervention required: synchronous mode, but "
                + (recorded.isEmpty
                    ? "no standby was recorded as synchronous when the primary was lost (it ran asynchronously)"
                    : "the synchronous standby (\(recorded.sorted().joined(separator: ", "))) is not available")
                + "; promoting \(node) could lose acknowledged commits; `drctl failover --to \(node) --accept-data-loss` promotes anyway"
        case let .timelineMismatch(node, timeline, lost): "\(node) is on timeline \(timeline.map(String.init) ?? "?"), the lost primary was on \(lost)"
        case let .beyondRPO(node, rpo, bytes, seconds):
            "manual intervention required: promoting \(node) would exceed the RPO \(DurationText.format(rpo)) (estimated loss "
                + "\(bytes.map { "\($0) bytes" } ?? "unknown bytes"), \(seconds.map { "\($0)s" } ?? "unknown time")); "
                + "`drctl failover --to \(node) --accept-data-loss` promotes anyway"
        case let .notFailsafeMember(node, leader):
            "\(node) was not a member when \(leader) last listed who must confirm it without etcd (failsafe): \(leader) may still accept writes "
                + "unseen by etcd, so \(node) does not take over by itself; make sure \(leader) is stopped or fenced, then `drctl failover --to \(node)`"
        case let .writableButNotLastLeader(node, last, timeline):
            "\(node) accepts writes but \(last) led last (timeline \(timeline)): \(node) was promoted outside drctl and lacks what \(last) wrote since, "
                + "so it does not take the free leader key; `drctl rejoin \(node)` makes it a standby again, `drctl promote --force \(node)` keeps it and loses those writes"
        case .fencedItselfLeaseOverdue(let node): "\(node) fenced itself: lease renewal overdue (etcd unreachable or agent stalled)"
        case .fencedItselfUnleased(let node): "\(node) fenced itself: it accepts writes but holds no lease it could confirm, and etcd is unreachable"
        case let .forcedSplitBrain(node, leader):
            "split brain: \(node) was promoted by hand (drctl promote --force) while \(leader) holds the leader key and reports primary; fence one of them"
        }
    }
}
