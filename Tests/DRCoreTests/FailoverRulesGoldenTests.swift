import DRCore
import Testing

/// The rule table, dumped: any change to a rule's order, id or wording shows here as a
/// reviewable diff (as pg_auto_failover's fsm.sql does for its state machine).
@Suite struct FailoverRulesGoldenTests {
    static let golden = """
        agent-stopping: A stopping leader agent renews its lease one last time and leaves its database running when a watchdog guards the lease (a restart within the lease is no failover; an agent that stays stopped is fenced at the deadline); without a watchdog it fences, then releases the key. Maintenance changes nothing here: an operator's failover may follow.
        fence-on-lease-deadline: A leader whose database may accept writes (a primary, one that stopped answering but was not seen to stop, a standby being promoted) fences it when its lease renewal is overdue, before the lease can expire in etcd.
        unleased-primary-without-etcd: A writable database whose agent holds no confirmed lease and cannot reach etcd is fenced: it may have been deposed while it was down or cut off (a rebooted host, a restarted agent). Only a forced promotion is exempt.
        switchover-stop-failed: Switchover: the leader's clean stop failed (the shutdown outlasted its limit, the server may still run): its database is fenced the ordinary way, then the key is released and the ordinary failover rules follow. If the fence fails, the leader keeps its lease while it tries again (and waits for an operator): no standby is promoted beside a server that may still take writes.
        leader-restores-own-primary: The leader's own database came back read-only (a `pg_ctl restart` by hand, a service manager: the restart guard's standby.signal makes every start read-only) although this node published its progress as primary under the current term and has all of it: nobody else can have written, so it is started again as the primary on its own timeline, without a promotion — no new timeline, no failover, standbys keep streaming. Also while paused. Not again for a while after a failed start.
        restart-requested: `drctl restart NODE`: a healthy running standby is restarted as a standby; the leader's healthy primary is restarted as the primary on its own timeline, keeping the key. With --pending-only, only when a setting waits for a restart (else the request is withdrawn). In any other state the other rules decide first (a primary that does not lead is fenced, not restarted) and the request waits or expires. Also while paused.
        paused: Maintenance: no automatic promotion or restart; the leader keeps its lease (also while its server restarts), and fencing stays armed (the two rules above, and a writable database whose node does not hold the key is fenced), so an operator's `drctl failover`, still carried out, never promotes beside a writable old primary.
        failsafe-leader-asks-members: Failsafe, etcd unreachable: the leader asks every member listed in the `failsafe` key to confirm it under its term; if all do, its lease counts as renewed when it asked (each member promises to take no key for a TTL). Anyone silent or refusing: the lease deadline fences as usual.
        etcd-unreachable: Without etcd nothing is safe to start: standbys never promote, the primary runs until its lease deadline.
        failsafe-promise-holds: With the leader key free, a node that confirmed a leader running without etcd takes no key until its promise ends: that leader may still accept writes.
        empty-node-clones: A node whose data directory is empty, or whose rebuild an operator asked for (`drctl reinit`), and which does not lead, is built anew as a standby of the writable leader (from the repository or the primary, as `replica.create_from` says). Without such a leader it waits; a failed build is tried again after a while.
        last-leader-resumes: A fenced or stopped node that led last (its progress is the newest in etcd) starts as a read-only standby once the key has been free a while and no other node can take over: it holds every commit, and the ordinary rules then decide whether it is promoted. Never while its fence is still under way.
        fenced-stays-fenced: A fenced node never accepts writes again until it is rejoined as a standby of a writable leader: with auto_rejoin, after it handed over in a switchover, or when an operator asks. A failed rejoin is tried again after a while (its cause often passes), meanwhile it waits for an operator.
        leader-database-failed: The leader's own database failed N checks in a row, or its postmaster process is gone: fence it, then release the key at once (the fast path). If fencing failed, the leader keeps its lease while it tries again: no standby is promoted beside a server that may still take writes.
        leader-restarts-database: Only if configured: the leader restarts its crashed database while failures are still below the threshold, a bounded number of times.
        leader-hands-over: Switchover: once due, the leader stops its database cleanly and hands the key to a healthy standby target; until the target is healthy it waits.
        leader-promotes: A standby that won the leader key renews it, promotes itself under that term (renewing the lease while the promotion runs), then points the managed DNS records at itself.
        leader-crashes-for-drill: A confirmed failover drill on a real cluster: the leader's agent stops its own healthy primary with an immediate shutdown, once; what follows is the failover any crash causes.
        leader-renews: The leader keeps its lease while its database is up or failing below the threshold, keeps one healthy standby synchronous and recorded in etcd (if configured), the live members listed in the `failsafe` key (with failsafe), a replication slot per configured node (and none for removed ones), and the managed DNS records pointed at their targets.
        forced-primary-waits: A primary an operator promoted without etcd is not fenced for a stale leader key: it waits for the key to expire, and if another live primary holds it, it is a split brain for the operator.
        foreign-primary-fences: A writable database whose node does not hold the leader key, while another holds it or reports primary, is fenced.
        primary-claims-free-key: The only writable database takes the free leader key (start-up, or after a release without a failover) if it led last, or nobody did, or an operator forced its promotion; one promoted by hand while its agent was stopped would erase the last leader's later writes, so it waits for an operator.
        standby-follows-leader: While a leader exists, a standby streams from it and does nothing else; one left on an older timeline than the leader's, not streaming for a while (its WAL went past the fork: a rebooted old primary), is rewound like a fenced node (with auto_rejoin, or when an operator asks).
        switchover-target-takes-over: Switchover, second half: with the old primary stopped, only the target takes the key, once it has received all of its WAL (zero loss by LSN); after a bounded wait the ordinary rules apply.
        not-a-candidate: With the leader key free, a node that is not a healthy standby (a restore still replaying the archive is not one), or is tagged nofailover, or is not the operator's choice, stays put.
        failsafe-outsider-waits: Failsafe: a candidate the lost leader did not list in its `failsafe` key was never asked to confirm it, so that leader may still be writable without etcd: it waits for an operator, whose `drctl failover --to` it follows.
        cooldown: No automatic failover within the cooldown after the last one (against ping-pong); an operator intent overrides.
        wait-for-better-candidate: A candidate that knows a better-placed one (in synchronous mode: a recorded synchronous one) waits for it, for a bounded time.
        synchronous-gate: Synchronous mode: only the lost leader itself, back read-only, or a standby it recorded as synchronous holds every acknowledged commit; it takes over without an RPO estimate. Others leave it to that standby, or wait for an operator when none is available.
        rpo-gate: Beyond the RPO (or with an unknown loss) nothing is promoted: manual intervention, with the numbers.
        take-over: The primary is lost and this standby is the best candidate within the RPO (or an operator's failover accepted the loss): take the leader key (promotion follows under its term).
        """

    static let standingGolden = """
        restart-guard: A running primary's data directory carries `standby.signal` (ignored while it runs), so a start by hand, by the host's boot or after a crash comes back read-only until the agent makes it writable again under a live lease. Not beside a fence, which writes it itself.
        """

    @Test func tableMatchesTheGoldenDump() {
        #expect(FailoverRule.table.map { "\($0.id): \($0.summary)" }.joined(separator: "\n") == Self.golden)
        #expect(StandingOrder.all.map { "\($0.id): \($0.summary)" }.joined(separator: "\n") == Self.standingGolden)
    }

    @Test func tableIsWellFormed() {
        let ids = FailoverRule.table.map(\.id)
        #expect(Set(ids).count == ids.count, "rule ids are unique")
        #expect(ids.allSatisfy { !$0.isEmpty && $0.allSatisfy { $0.isLowercase || $0 == "-" } })
        #expect(FailoverRule.table.allSatisfy { $0.summary.hasSuffix(".") || $0.summary.hasSuffix(")") })
        #expect(ids.first == "agent-stopping" && ids.last == "take-over", "the last decision first; the catch-all last")
    }
}
