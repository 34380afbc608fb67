/// What `decide` asks the agent to do. Values, not prose (each reason is a `Reason`): tests
/// compare them, and each
/// one that touches the cluster carries the leader term it was decided under, so its
/// executor can refuse it once that term is stale.
public enum Action: Sendable, Equatable {
    /// Renew the leader lease (this agent is the primary's agent).
    case renewLease(term: Int64)
    /// Try to take the free leader key; a later tick promotes if it was won.
    case acquireLeadership(reason: Reason)
    /// Give up the leader key so a standby can take over at once.
    case releaseLeadership(term: Int64, reason: Reason)
    /// `pg_promote()` this node; only while it holds the leader key under `term`.
    case promote(node: String, term: Int64)
    /// Stop this node's database so that it cannot accept writes. `term` is nil when the
    /// agent has lost (or never had) leadership: fencing is always allowed.
    case fence(node: String, reason: Reason)
    /// Make commits on this primary wait for one of `standbys` (none: asynchronous).
    case setSynchronousStandbys(_ standbys: [String], term: Int64)
    /// Write the `sync` key: these standbys hold every commit acknowledged from now on
    /// (see `SynchronousReplication` for the order against `setSynchronousStandbys`).
    case recordSynchronous(_ standbys: [String], term: Int64)
    /// Start the leader's crashed database again, without waiting; the health checks that
    /// follow tell whether it came back before the failure threshold.
    case restartDatabase(node: String, term: Int64)
    /// Create and drop physical replication slots on the leader's database (see
    /// `ReplicationSlots`); only the leader, only under `term`.
    case keepSlots(create: [String], drop: [String], term: Int64)
    /// A confirmed failover drill: stop the leader's own healthy database with an immediate
    /// shutdown (a crash), once; the rules that follow handle the loss like any other.
    case crashForDrill(node: String, term: Int64)
    /// Stop this node's running database cleanly and start it again in its role: a standby
    /// as a standby; the leader's as the primary on its own timeline (`standby.signal`
    /// lifted for that start only), only under `term`. No promotion, no failover.
    case restartInPlace(node: String, term: Int64?, asPrimary: Bool, reason: Reason)
    /// Withdraw `drctl restart NODE`'s request without restarting, saying why.
    case dropRestartRequest(node: String, reason: Reason)
    /// Point this standby at the leader.
    case follow(node: String, leader: String, term: Int64)
    /// Turn a fenced old primary into a standby of the leader (pg_rewind when needed).
    case rejoin(node: String, leader: String, term: Int64)
    /// Build this node's database anew as a standby of the leader (its data directory is
    /// empty, or an operator asked with `drctl reinit`): from the sources `replica.create_from`
    /// lists, first that works; whatever the directory held is replaced.
    case cloneStandby(node: String, leader: String, term: Int64)
    /// Leave the fence as a read-only standby (`standby.signal` kept, the server started):
    /// only the last leader, which holds every commit, when nobody else can take over.
    case resumeAsStandby(node: String, reason: Reason)
    /// Point the managed DNS `record` at `node` (the leader's address, or a region's best
    /// node); only the leader, only under `term`, so a deposed agent never flips DNS back.
    case switchDNS(record: String, to: String, term: Int64)
    /// Switchover, first half: stop this primary cleanly (its WAL reaches the standbys),
    /// record where the WAL ended in `intent` (as decided on: the executor reads no intent
    /// of its own, so the marker it writes first and the stop always concern the same
    /// switchover), then release the key for `intent.to`.
    case handOver(SwitchoverIntent, term: Int64)
    /// Leaves `standby.signal` in the running primary's data directory (the restart guard:
    /// `StandingOrder` "restart-guard").
    case guardRestart(node: String)
    /// Failsafe, etcd unreachable: ask each of `members` (through its agent API) to confirm
    /// this leader under `term`; if every one does, the lease counts as renewed when the
    /// requests were sent. No term check by the executor: the members check it.
    case askFailsafeMembers(_ members: [String], term: Int64)
    /// Write the `failsafe` key (who the leader must hear from without etcd), only while
    /// the record's leader holds the key under its term.
    case publishFailsafe(FailsafeRecord)
    /// No automatic action is safe: wait for an operator, and say why with the numbers.
    case holdForOperator(reason: Reason)
    /// Tell a human (log, metric, alert) without acting.
    case alert(reason: Reason)

    /// The term an executor must check, nil for actions that are safe in any term.
    public var term: Int64? {
        switch self {
        case .renewLease(let term), .releaseLeadership(let term, _), .promote(_, let term), .setSynchronousStandbys(_, let term),
            .recordSynchronous(_, let term), .restartDatabase(_, let term), .keepSlots(_, _, let term), .crashForDrill(_, let term),
            .follow(_, _, let term), .rejoin(_, _, let term), .cloneStandby(_, _, let term), .switchDNS(_, _, let term), .handOver(_, let term):
            term
        case .restartInPlace(_, let term, _, _):
            term
        case .publishFailsafe(let record):
            record.term
        case .acquireLeadership, .fence, .resumeAsStandby, .askFailsafeMembers, .holdForOperator, .alert, .dropRestartRequest, .guardRestart:
            nil
        }
    }
}
