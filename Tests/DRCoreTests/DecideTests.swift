import DRCore
import Testing

/// Table-driven tests of `decide`: each row is one agent's snapshot at one instant.
@Suite struct DecideTests {
    static let policy = FailoverPolicy(
        failuresInARow: 3, rpo: .seconds(5), cooldown: .seconds(300), fencingMargin: .seconds(1),
        betterCandidateWait: .seconds(3), autoRejoin: false)
    static let progress = PrimaryProgress(node: "a", timeline: 1, lsn: LSN(1000), standbyLagSeconds: ["b": 0.2, "c": 9])

    static func member(
        _ name: String, _ role: NodeRole = .standby, lsn: UInt64 = 1000, healthy: Bool = true,
        nofailover: Bool = false, priority: Int = 100
    ) -> MemberRecord {
        MemberRecord(
            name: name, region: name, role: role, timeline: 1, lsn: LSN(lsn), replayLSN: LSN(lsn), lagBytes: 0,
            healthy: healthy, failedChecks: 0, nofailover: nofailover, priority: priority, publishedAtMillis: 0)
    }

    static func primaryView(
        failed: Int = 0, renewedAt: Double = 9, etcd: Bool = true, leader: String? = "a", paused: Bool = false,
        state: LocalDatabase.State = .primary, members: [MemberRecord] = [member("a", .primary), member("b")]
    ) -> ClusterView {
        ClusterView(
            me: "a", local: LocalDatabase(state: state, failedChecks: failed, lsn: LSN(1000)), etcdReachable: etcd,
            leader: leader.map { LeaderRecord(node: $0, term: 7, lease: 1) }, members: members, primaryProgress: progress,
            lease: LeaseBookkeeping(term: 7, ttl: .seconds(5), lastConfirmedRenewalSentAt: .seconds(renewedAt)), paused: paused)
    }

    static func standbyView(
        _ me: String = "b", lsn: UInt64 = 1000, leader: String? = nil, term: Int64 = 7, streamingFrom: String? = "a",
        state: LocalDatabase.State = .standby, failed: Int = 0, etcd: Bool = true, tags: Set<NodeTag> = [],
        members: [MemberRecord] = [member("b"), member("c", lsn: 900)], missingSince: Double? = 10,
        lastFailover: Double? = nil, intent: FailoverIntent? = nil, timeline: Int = 1, paused: Bool = false
    ) -> ClusterView {
        ClusterView(
            me: me, local: LocalDatabase(state: state, failedChecks: failed, timeline: timeline, lsn: LSN(lsn), streamingFrom: streamingFrom, tags: tags),
            etcdReachable: etcd, leader: leader.map { LeaderRecord(node: $0, term: term, lease: 2) }, members: members,
            primaryProgress: progress, paused: paused, failoverIntent: intent,
            lastFailoverSeen: lastFailover.map { .seconds($0) }, leaderMissingSince: missingSince.map { .seconds($0) })
    }

    /// A standby of leader `b` (term 8) on timeline 1 that has not streamed since 10 s.
    static func pastTheFork(leaderTimeline: Int) -> ClusterView {
        var leader = member("b", .primary)
        leader.timeline = leaderTimeline
        var view = standbyView("a", leader: "b", term: 8, streamingFrom: "b", members: [leader])
        view.local.upstreamLostSince = .seconds(10)
        return view
    }

    /// Node b with an empty data directory (down), `a` leading and primary unless told.
    static func emptyNode(
        leader: String? = "a", leaderRole: NodeRole = .primary, state: LocalDatabase.State = .down, failed: RejoinFailure? = nil, reinit: Bool = false,
        empty: Bool = true
    ) -> ClusterView {
        var view = standbyView(leader: leader, streamingFrom: nil, state: state, failed: 3, members: [member("a", leaderRole)])
        view.local.dataDirectoryEmpty = empty
        view.requests.reclone = reinit
        view.work.clone = failed.map(CloneState.failed) ?? .idle
        return view
    }

    struct Row: CustomTestStringConvertible, Sendable {
        var name: String
        var view: ClusterView
        var now: Double
        var rule: String
        var actions: [Action]?
        var testDescription: String { name }
    }

    static let rows: [Row] = [
        // The primary's agent.
        .init(name: "healthy leader renews", view: primaryView(), now: 10, rule: "leader-renews", actions: [.renewLease(term: 7)]),
        .init(name: "flapping check below threshold keeps the lease", view: primaryView(failed: 2), now: 10, rule: "leader-renews", actions: [.renewLease(term: 7)]),
        .init(
            name: "database crash with agent alive: fence, then release", view: primaryView(failed: 3, state: .down), now: 10, rule: "leader-database-failed",
            actions: [.fence(node: "a", reason: .databaseFailedChecks(3)), .releaseLeadership(term: 7, reason: .databaseFailedChecks(3))]),
        .init(
            name: "renewal overdue: fence before etcd expires the lease", view: primaryView(renewedAt: 6, etcd: false), now: 10, rule: "fence-on-lease-deadline",
            actions: [.fence(node: "a", reason: .leaseRenewalOverdue), .alert(reason: .fencedItselfLeaseOverdue(node: "a"))]),
        .init(name: "etcd unreachable, deadline not reached: keep running", view: primaryView(renewedAt: 8, etcd: false), now: 10, rule: "etcd-unreachable", actions: []),
        .init(
            name: "woken after a freeze past the deadline: fence first", view: primaryView(renewedAt: 1), now: 30, rule: "fence-on-lease-deadline",
            actions: [.fence(node: "a", reason: .leaseRenewalOverdue), .alert(reason: .fencedItselfLeaseOverdue(node: "a"))]),
        .init(
            name: "another node holds the key: a writable old primary fences", view: primaryView(leader: "b"), now: 10, rule: "foreign-primary-fences",
            actions: [.fence(node: "a", reason: .otherLeader(node: "b", term: 7))]),
        .init(
            name: "start-up primary claims the free key", view: primaryView(leader: nil), now: 10, rule: "primary-claims-free-key",
            actions: [.acquireLeadership(reason: .onlyPrimaryKeyFree(node: "a"))]),
        .init(
            name: "free key but another member reports primary: fence", view: primaryView(leader: nil, members: [member("a", .primary), member("b", .primary)]),
            now: 10, rule: "foreign-primary-fences", actions: [.fence(node: "a", reason: .otherPrimary(node: "b"))]),
        .init(name: "paused leader only renews", view: primaryView(failed: 5, paused: true), now: 10, rule: "paused", actions: [.renewLease(term: 7)]),
        // Maintenance never disarms fencing (issue 26): `drctl failover` may follow a lapsed key.
        .init(
            name: "paused, renewal overdue: fenced all the same", view: primaryView(renewedAt: 6, etcd: false, paused: true), now: 10,
            rule: "fence-on-lease-deadline",
            actions: [.fence(node: "a", reason: .leaseRenewalOverdue), .alert(reason: .fencedItselfLeaseOverdue(node: "a"))]),
        .init(
            name: "paused, the leader's server restarted by hand: the key stays", view: primaryView(failed: 2, paused: true, state: .down), now: 10,
            rule: "paused", actions: [.renewLease(term: 7)]),
        .init(
            name: "paused, another node holds the key: the writable old primary fences", view: primaryView(leader: "b", paused: true), now: 10,
            rule: "paused", actions: [.fence(node: "a", reason: .otherLeader(node: "b", term: 7))]),
        // A standby's agent.
        .init(name: "standby with a leader does nothing", view: standbyView(leader: "a"), now: 10, rule: "standby-follows-leader", actions: []),
        .init(
            name: "standby re-points at a new leader", view: standbyView(leader: "c", term: 9), now: 10, rule: "standby-follows-leader",
            actions: [.follow(node: "b", leader: "c", term: 9)]),
        .init(name: "whole primary lost: best candidate takes the key", view: standbyView(), now: 11, rule: "take-over", actions: [.acquireLeadership(reason: .bestCandidateWithinRPO(node: "b"))]),
        .init(
            name: "holder of the key promotes under its term", view: standbyView(leader: "b", term: 8), now: 11, rule: "leader-promotes",
            actions: [.renewLease(term: 8), .promote(node: "b", term: 8)]),
        .init(name: "etcd unavailable to everyone: a standby never promotes", view: standbyView(etcd: false), now: 11, rule: "etcd-unreachable", actions: []),
        .init(name: "unhealthy standby is no candidate", view: standbyView(failed: 1), now: 11, rule: "not-a-candidate", actions: []),
        .init(name: "down standby is no candidate", view: standbyView(state: .down), now: 11, rule: "not-a-candidate", actions: []),
        .init(name: "nofailover standby stays put", view: standbyView(tags: [.nofailover]), now: 11, rule: "not-a-candidate", actions: []),
        .init(name: "paused cluster: no promotion", view: standbyView(paused: true), now: 11, rule: "paused", actions: []),
        .init(
            name: "paused, but the operator asked for a failover: carried out", view: standbyView(intent: FailoverIntent(to: "b", acceptDataLoss: true), paused: true),
            now: 11, rule: "take-over", actions: [.acquireLeadership(reason: .dataLossAccepted(node: "b"))]),
        .init(
            name: "cooldown after a recent failover", view: standbyView(lastFailover: 0), now: 60, rule: "cooldown",
            actions: [.holdForOperator(reason: .cooldown(sinceLastFailover: .seconds(60), cooldown: .seconds(300)))]),
        .init(name: "cooldown over", view: standbyView(lastFailover: 0), now: 400, rule: "take-over", actions: [.acquireLeadership(reason: .bestCandidateWithinRPO(node: "b"))]),
        .init(name: "a better candidate exists: wait for it", view: standbyView("c", lsn: 900), now: 11, rule: "wait-for-better-candidate", actions: []),
        .init(
            name: "the better candidate never came: go after the bound (RPO permitting)",
            view: standbyView("c", lsn: 900, members: [member("b"), member("c", lsn: 900)]), now: 14, rule: "rpo-gate",
            actions: [.holdForOperator(reason: .beyondRPO(node: "c", rpo: .seconds(5), lossBytes: 100, lossSeconds: 9))]),
        .init(
            name: "two candidates racing: equal LSN, the higher priority wins",
            view: standbyView("c", lsn: 1000, members: [member("b", priority: 50), member("c", priority: 90)]), now: 11, rule: "take-over",
            actions: [.acquireLeadership(reason: .bestCandidateWithinRPO(node: "c"))]),
        .init(
            name: "two candidates racing: the other waits",
            view: standbyView("b", lsn: 1000, members: [member("b", priority: 50), member("c", priority: 90)]), now: 11, rule: "wait-for-better-candidate", actions: []),
        .init(
            name: "lag beyond the RPO: manual intervention", view: standbyView("c", lsn: 900, members: [member("c", lsn: 900)]), now: 11, rule: "rpo-gate",
            actions: [.holdForOperator(reason: .beyondRPO(node: "c", rpo: .seconds(5), lossBytes: 100, lossSeconds: 9))]),
        .init(
            name: "accepted data loss promotes beyond the RPO",
            view: standbyView("c", lsn: 900, members: [member("c", lsn: 900)], intent: FailoverIntent(to: "c", acceptDataLoss: true)), now: 11, rule: "take-over",
            actions: [.acquireLeadership(reason: .dataLossAccepted(node: "c"))]),
        .init(name: "operator chose another node", view: standbyView(intent: FailoverIntent(to: "c", acceptDataLoss: false)), now: 11, rule: "not-a-candidate", actions: []),
        .init(
            name: "operator intent overrides cooldown", view: standbyView(lastFailover: 0, intent: FailoverIntent(to: "b", acceptDataLoss: false)), now: 60, rule: "take-over",
            actions: [.acquireLeadership(reason: .bestCandidateWithinRPO(node: "b"))]),
        .init(
            name: "standby on another timeline is not promoted", view: standbyView(timeline: 2), now: 11, rule: "rpo-gate",
            actions: [.holdForOperator(reason: .timelineMismatch(node: "b", timeline: 2, lostPrimaryTimeline: 1))]),
        // A fenced old primary.
        .init(
            name: "fenced node stays fenced", view: standbyView("a", leader: "b", term: 8, state: .fenced), now: 11, rule: "fenced-stays-fenced",
            actions: [.holdForOperator(reason: .fencedUntilRejoined(node: "a"))]),
        // A rebooted old primary that came up read-only and followed the new leader, but whose
        // WAL went past the fork: it never streams, and is rewound.
        .init(
            name: "standby stuck on an older timeline is rewound",
            view: pastTheFork(leaderTimeline: 2), now: 45, rule: "standby-follows-leader",
            actions: [.holdForOperator(reason: .cannotFollow(node: "a", timeline: 1, leader: "b", leaderTimeline: 2))]),
        .init(
            name: "standby on an older timeline gets time to switch timelines",
            view: pastTheFork(leaderTimeline: 2), now: 20, rule: "standby-follows-leader", actions: []),
        .init(
            name: "standby on the leader's timeline that does not stream is left alone",
            view: pastTheFork(leaderTimeline: 1), now: 45, rule: "standby-follows-leader", actions: []),
        // The last leader, fenced (by its watchdog, at its deadline), with the key free.
        .init(
            name: "fenced last leader, nobody else can take over: resumes as a standby",
            view: standbyView("a", state: .fenced, members: [member("b", .fenced), member("c", healthy: false)], missingSince: 10), now: 14,
            rule: "last-leader-resumes", actions: [.resumeAsStandby(node: "a", reason: .lastLeaderResumes(node: "a"))]),
        .init(
            name: "stopped last leader, not fenced (a fence that failed, then took effect), resumes too",
            view: {
                var view = standbyView("a", state: .down, members: [member("b", .fenced)], missingSince: 10)
                view.local.postmasterGone = true
                return view
            }(), now: 14, rule: "last-leader-resumes", actions: [.resumeAsStandby(node: "a", reason: .lastLeaderResumes(node: "a"))]),
        .init(
            name: "a last leader that stopped answering is not started beside itself",
            view: standbyView("a", state: .down, members: [member("b", .fenced)], missingSince: 10), now: 14, rule: "not-a-candidate", actions: []),
        .init(
            name: "a last leader that failed to start waits before it is tried again",
            view: {
                var view = standbyView("a", state: .fenced, members: [member("b", .fenced)], missingSince: 10)
                view.work.resumeFailedAt = .seconds(14)
                return view
            }(), now: 20, rule: "last-leader-resumes", actions: [.holdForOperator(reason: .lastLeaderCannotStart(node: "a"))]),
        .init(
            name: "never while its own fence is under way",
            view: {
                var view = standbyView("a", state: .fenced, members: [member("b", .fenced)], missingSince: 10)
                view.work.fence = .underway(count: 1, previousFailure: nil)
                return view
            }(), now: 14, rule: "fenced-stays-fenced", actions: []),
        .init(
            name: "fenced last leader waits a while for a candidate",
            view: standbyView("a", state: .fenced, members: [member("b", .fenced)], missingSince: 10), now: 12, rule: "fenced-stays-fenced", actions: []),
        .init(
            name: "fenced last leader leaves it to a healthy standby",
            view: standbyView("a", state: .fenced, members: [member("b")], missingSince: 10), now: 30, rule: "fenced-stays-fenced", actions: []),
        .init(
            name: "fenced last leader resumes when the standby waits for an operator",
            view: standbyView(
                "a", state: .fenced,
                members: [
                    {
                        var b = member("b"); b.hold = "beyond the RPO"; return b
                    }()
                ], missingSince: 10), now: 30,
            rule: "last-leader-resumes", actions: [.resumeAsStandby(node: "a", reason: .lastLeaderResumes(node: "a"))]),
        .init(
            name: "a fenced node that did not lead last stays fenced",
            view: standbyView("c", state: .fenced, members: [member("a", .fenced)], missingSince: 10), now: 30, rule: "fenced-stays-fenced", actions: []),
        .init(
            name: "a restore still replaying the archive is no candidate",
            view: {
                var v = standbyView(); v.local.archiveRecovery = true; return v
            }(),
            now: 20, rule: "not-a-candidate", actions: []),
        // Standbys built by the agents (replica.create_from).
        .init(
            name: "empty data directory: built as a standby of the leader", view: emptyNode(), now: 20, rule: "empty-node-clones",
            actions: [.cloneStandby(node: "b", leader: "a", term: 7)]),
        .init(
            name: "empty and fenced: built all the same", view: emptyNode(state: .fenced), now: 20, rule: "empty-node-clones",
            actions: [.cloneStandby(node: "b", leader: "a", term: 7)]),
        .init(
            name: "empty, no leader: nothing to build from", view: emptyNode(leader: nil), now: 20, rule: "empty-node-clones",
            actions: [.holdForOperator(reason: .nothingToCloneFrom(node: "b"))]),
        .init(
            name: "empty, leader not yet primary: wait", view: emptyNode(leaderRole: .standby), now: 20, rule: "empty-node-clones",
            actions: [.holdForOperator(reason: .nothingToCloneFrom(node: "b"))]),
        .init(
            name: "a build failed under this term: wait before the next", view: emptyNode(failed: RejoinFailure(term: 7, message: "pg_basebackup exited 1", at: .seconds(15))),
            now: 20, rule: "empty-node-clones", actions: [.holdForOperator(reason: .cloneFailed(node: "b", message: "pg_basebackup exited 1"))]),
        .init(
            name: "a failed build is tried again after a while", view: emptyNode(failed: RejoinFailure(term: 7, message: "x", at: .seconds(15))), now: 50,
            rule: "empty-node-clones", actions: [.cloneStandby(node: "b", leader: "a", term: 7)]),
        .init(
            name: "reinit asked of a running standby", view: emptyNode(state: .standby, reinit: true, empty: false), now: 20, rule: "empty-node-clones",
            actions: [.cloneStandby(node: "b", leader: "a", term: 7)]),
        .init(
            name: "reinit without a writable leader: nothing yet", view: emptyNode(leader: nil, state: .standby, reinit: true, empty: false), now: 20,
            rule: "empty-node-clones", actions: []),
        .init(
            name: "reinit never touches a primary",
            view: {
                var v = primaryView(leader: nil); v.requests.reclone = true; return v
            }(), now: 10,
            rule: "primary-claims-free-key", actions: [.acquireLeadership(reason: .onlyPrimaryKeyFree(node: "a"))]),
    ]

    @Test(arguments: rows)
    func decides(_ row: Row) {
        let decision = decide(row.view, policy: Self.policy, now: .seconds(row.now))
        #expect(decision.rule == row.rule, "actions: \(decision.actions)")
        if let actions = row.actions { #expect(decision.actions == actions) }
    }

    @Test func takeOverAcquiresAndTheRPOGateExplainsItsNumbers() {
        let go = decide(Self.standbyView(), policy: Self.policy, now: .seconds(11))
        guard case .acquireLeadership? = go.actions.first else { Issue.record("\(go)"); return }
        let hold = decide(Self.standbyView("c", lsn: 900, members: [Self.member("c", lsn: 900)]), policy: Self.policy, now: .seconds(11))
        guard case .holdForOperator(let reason)? = hold.actions.first else { Issue.record("\(hold)"); return }
        #expect(reason == .beyondRPO(node: "c", rpo: .seconds(5), lossBytes: 100, lossSeconds: 9))
        // The sentence an operator reads at 3 a.m.: the numbers, and the command that overrides.
        let text = reason.description
        #expect(text.contains("manual intervention required"))
        #expect(text.contains("100 bytes") && text.contains("9.0s") && text.contains("RPO 5s"))
        #expect(text.contains("drctl failover --to c --accept-data-loss"))
        let fence = decide(Self.primaryView(renewedAt: 6, etcd: false), policy: Self.policy, now: .seconds(10))
        guard case .fence(let node, _)? = fence.actions.first else { Issue.record("\(fence)"); return }
        #expect(node == "a")
    }

    @Test func everyActionThatTouchesTheClusterCarriesATerm() {
        for row in Self.rows + RestartRulesTests.rows {
            for action in decide(row.view, policy: Self.policy, now: .seconds(row.now)).actions {
                switch action {
                case .renewLease, .releaseLeadership, .promote, .follow, .rejoin, .cloneStandby, .keepSlots, .setSynchronousStandbys, .recordSynchronous, .restartDatabase, .crashForDrill, .switchDNS,
                    .handOver,
                    .publishFailsafe:
                    #expect(action.term != nil)
                // A standby's restart is safe in any term; the primary's needs its own.
                case .restartInPlace(_, let term, let asPrimary, _): #expect(asPrimary == (term != nil))
                case .dropRestartRequest: #expect(action.term == nil)
                // The failsafe request carries its term to the members, who check it.
                case .acquireLeadership, .fence, .resumeAsStandby, .askFailsafeMembers, .holdForOperator, .alert, .guardRestart: #expect(action.term == nil)
                }
            }
        }
    }

    @Test func restartsACrashedLeaderDatabaseOnlyIfConfiguredAndBelowTheThreshold() {
        var policy = Self.policy
        #expect(decide(Self.primaryView(failed: 1, state: .down), policy: policy, now: .seconds(10)).rule == "leader-renews", "not configured: no restart")
        policy.restartAttempts = 1
        let restart = decide(Self.primaryView(failed: 1, state: .down), policy: policy, now: .seconds(10))
        #expect(restart.actions == [.renewLease(term: 7), .restartDatabase(node: "a", term: 7)])
        var tried = Self.primaryView(failed: 2, state: .down)
        tried.work.restartsTried = 1
        #expect(decide(tried, policy: policy, now: .seconds(10)).rule == "leader-renews", "attempts used up: wait for the threshold")
        #expect(
            decide(Self.primaryView(failed: 3, state: .down), policy: policy, now: .seconds(10)).rule == "leader-database-failed",
            "at the threshold the fast path wins over a restart")
    }

    @Test func aGonePostmasterIsCertainAfterOneCheckUnlessARestartIsLeft() {
        var crashed = Self.primaryView(failed: 1, state: .down)
        crashed.local.postmasterGone = true
        let decision = decide(crashed, policy: Self.policy, now: .seconds(10))
        #expect(decision.rule == "leader-database-failed")
        #expect(decision.actions == [.fence(node: "a", reason: .postmasterGone), .releaseLeadership(term: 7, reason: .postmasterGone)])
        var policy = Self.policy
        policy.restartAttempts = 1
        #expect(decide(crashed, policy: policy, now: .seconds(10)).rule == "leader-restarts-database", "a restart is tried first when configured")
        crashed.work.restartsTried = 1
        #expect(decide(crashed, policy: policy, now: .seconds(10)).rule == "leader-database-failed", "restart used up: fail fast")
        var refusing = Self.primaryView(failed: 1, state: .down)
        refusing.local.postmasterGone = false
        #expect(decide(refusing, policy: Self.policy, now: .seconds(10)).rule == "leader-renews", "a live postmaster that refuses is a flap until N")
    }

    @Test func theLeaderSwitchesDNSWithThePromotionAndKeepsItPointed() {
        var policy = Self.policy
        policy.dnsRecords = [
            DNSBinding(record: "db.example.com.", target: .primary),
            DNSBinding(record: "ro-c.example.com.", target: .region("c")),
        ]
        let members = [Self.member("b"), Self.member("c", lsn: 900)]
        // The standby that won the key: promote, then point both records (region c's record
        // at c's healthy standby).
        let winner = Self.standbyView(leader: "b", term: 8, members: members)
        #expect(
            decide(winner, policy: policy, now: .seconds(11)).actions == [
                .renewLease(term: 8), .promote(node: "b", term: 8), .switchDNS(record: "db.example.com.", to: "b", term: 8), .switchDNS(record: "ro-c.example.com.", to: "c", term: 8),
            ])

        var leader = Self.primaryView(members: [Self.member("a", .primary), Self.member("c", healthy: false)])
        #expect(
            decide(leader, policy: policy, now: .seconds(10)).actions == [
                .renewLease(term: 7), .switchDNS(record: "db.example.com.", to: "a", term: 7), .switchDNS(record: "ro-c.example.com.", to: "a", term: 7),
            ],
            "a new term re-asserts every record; region c has no healthy node, so its record follows the primary")
        leader.dns = [
            "db.example.com.": DNSRecordState(node: "a", term: 7, phase: .synced(at: .seconds(5))),
            "ro-c.example.com.": DNSRecordState(node: "a", term: 7, phase: .inFlight),
        ]
        #expect(decide(leader, policy: policy, now: .seconds(10)).actions == [.renewLease(term: 7)], "synced or in flight: nothing to do")
        policy.dnsRetry = .seconds(3)
        leader.dns["ro-c.example.com."]?.phase = .failed(at: .seconds(8))
        #expect(decide(leader, policy: policy, now: .seconds(10)).actions == [.renewLease(term: 7)], "failed 2s ago: wait for the retry interval")
        leader.dns["ro-c.example.com."]?.phase = .failed(at: .seconds(6))
        #expect(decide(leader, policy: policy, now: .seconds(10)).actions == [.renewLease(term: 7), .switchDNS(record: "ro-c.example.com.", to: "a", term: 7)])
        leader.dns["db.example.com."] = DNSRecordState(node: "a", term: 6, phase: .synced(at: .seconds(5)))
        #expect(
            decide(leader, policy: policy, now: .seconds(12)).actions.contains(.switchDNS(record: "db.example.com.", to: "a", term: 7)),
            "synced under an older term: checked again under this one")
    }

    @Test func aSwitchoverHandsOverCleanlyAndOnlyTheTargetTakesOverWithAllTheWAL() {
        let requested = SwitchoverIntent(to: "b", requestedAtMillis: 0)
        var leader = Self.primaryView()
        leader.switchover = requested
        #expect(decide(leader, policy: Self.policy, now: .seconds(10)).actions == [.renewLease(term: 7), .handOver(requested, term: 7)])
        leader.switchoverDue = false
        #expect(decide(leader, policy: Self.policy, now: .seconds(10)).rule == "leader-renews", "--at not reached yet")
        leader.switchoverDue = true
        leader.members = [Self.member("a", .primary), Self.member("b", healthy: false)]
        #expect(
            decide(leader, policy: Self.policy, now: .seconds(10)).actions == [
                .renewLease(term: 7), .holdForOperator(reason: .switchoverTargetUnhealthy(target: "b")),
            ])

        let demoted = SwitchoverIntent(to: "b", phase: .demoted, requestedAtMillis: 0, from: "a", demotedAtMillis: 0, endLSN: LSN(1000))
        var target = Self.standbyView(lsn: 999, lastFailover: 9)
        target.switchover = demoted
        #expect(decide(target, policy: Self.policy, now: .seconds(11)).actions == [], "not all of the old primary's WAL yet: wait")
        target.local.lsn = LSN(1000)
        let takeOver = decide(target, policy: Self.policy, now: .seconds(11))
        #expect(takeOver.rule == "switchover-target-takes-over", "no cooldown, no RPO estimate: the LSN proves zero loss")
        var other = Self.standbyView("c", lsn: 2000)
        other.switchover = demoted
        #expect(decide(other, policy: Self.policy, now: .seconds(11)).actions == [], "only the target takes over")
        #expect(decide(other, policy: Self.policy, now: .seconds(50)).rule != "switchover-target-takes-over", "after the bounded wait the ordinary rules apply")

        var old = Self.standbyView("a", leader: "b", term: 8, state: .fenced, members: [Self.member("b", .primary)])
        old.local.fencedForSwitchover = true
        #expect(decide(old, policy: Self.policy, now: .seconds(12)).actions == [.rejoin(node: "a", leader: "b", term: 8)], "the handed-over primary rejoins without auto_rejoin")
        old.local.fencedForSwitchover = false
        old.requests.rejoin = true
        #expect(decide(old, policy: Self.policy, now: .seconds(12)).actions == [.rejoin(node: "a", leader: "b", term: 8)], "`drctl rejoin` asked for it")
    }

    @Test func switchoverIsRefusedWithTheReason() {
        let members = [Self.member("a", .primary), Self.member("b"), Self.member("c", healthy: false)]
        let leader = LeaderRecord(node: "a", term: 7, lease: 1)
        func refusal(_ to: String, paused: Bool = false, pending: Bool = false, leader: LeaderRecord? = leader) -> String? {
            SwitchoverCheck.refusal(
                to: to, leader: leader, members: members, primaryProgress: Self.progress, paused: paused, failoverPending: false,
                switchoverPending: pending, lagLimit: .seconds(5))
        }
        #expect(refusal("b") == nil)
        #expect(refusal("a")?.contains("already the primary") == true)
        #expect(refusal("c")?.contains("not a healthy standby") == true)
        #expect(refusal("b", paused: true)?.contains("paused") == true)
        #expect(refusal("b", pending: true)?.contains("in flight") == true)
        #expect(refusal("b", leader: nil)?.contains("drctl failover") == true)
        #expect(refusal("d")?.contains("no live agent") == true)
        var lagging = Self.progress
        lagging.standbyLagSeconds["b"] = 9
        #expect(
            SwitchoverCheck.refusal(
                to: "b", leader: leader, members: members, primaryProgress: lagging, paused: false, failoverPending: false,
                switchoverPending: false, lagLimit: .seconds(5))?.contains("beyond the 5s limit") == true)
    }

    @Test func aForcedPrimaryIsNotFencedForAStaleKeyButASplitBrainHolds() {
        var forced = Self.primaryView(leader: "b", members: [Self.member("a", .primary), Self.member("b", .fenced)])
        #expect(decide(forced, policy: Self.policy, now: .seconds(10)).rule == "foreign-primary-fences", "unmarked: fenced as ever")
        forced.local.forcedPromotion = true
        #expect(decide(forced, policy: Self.policy, now: .seconds(10)).actions == [], "the stale key's holder is fenced: wait for it to expire")
        forced.members = [Self.member("a", .primary), Self.member("b", .primary)]
        let split = decide(forced, policy: Self.policy, now: .seconds(10))
        #expect(split.rule == "forced-primary-waits" && split.actions.count == 2 && split.actions.contains { if case .alert = $0 { true } else { false } })
        forced.leader = nil
        #expect(decide(forced, policy: Self.policy, now: .seconds(10)).rule == "foreign-primary-fences", "another member reports primary with no leader: the usual rule")
    }

    @Test func aDeposedLeadersDNSSwitchIsRefused() {
        let action = Action.switchDNS(record: "db.example.com.", to: "a", term: 7)
        #expect(SafetyChecks.permits(action, leader: LeaderRecord(node: "a", term: 7, lease: 1), me: "a"))
        #expect(!SafetyChecks.permits(action, leader: LeaderRecord(node: "b", term: 8, lease: 2), me: "a"), "another leader, newer term")
        #expect(!SafetyChecks.permits(action, leader: LeaderRecord(node: "a", term: 9, lease: 3), me: "a"), "same node, newer term")
        #expect(!SafetyChecks.permits(action, leader: nil, me: "a"))
    }

    @Test func synchronousStandbyNamesRoundTrip() {
        #expect(SynchronousStandbyNames.format([]) == "")
        #expect(SynchronousStandbyNames.format(["pg2", "pg3"]) == "ANY 1 (\"pg2\", \"pg3\")")
        #expect(SynchronousStandbyNames.parse(SynchronousStandbyNames.format(["b", "a"])) == ["a", "b"])
        #expect(SynchronousStandbyNames.parse("FIRST 2 (s1, s2)") == ["s1", "s2"])
        #expect(SynchronousStandbyNames.parse("s2, s1") == ["s1", "s2"])
        #expect(SynchronousStandbyNames.parse("") == [])
    }

    @Test func aStoppingAgentFencesAndReleasesOnlyAsLeaderOutsideMaintenance() {
        var leader = Self.primaryView()
        leader.shuttingDown = true
        #expect(
            decide(leader, policy: Self.policy, now: .seconds(10)).actions == [
                .fence(node: "a", reason: .agentStopping), .releaseLeadership(term: 7, reason: .agentStopping),
            ])
        leader.watchdogGuardsLease = true
        #expect(
            decide(leader, policy: Self.policy, now: .seconds(10)).actions == [.renewLease(term: 7)],
            "a watchdog guards the lease: renewed once more, so a restart within it is no failover; the watchdog fences if none comes")
        leader.watchdogGuardsLease = false
        leader.paused = true
        #expect(
            decide(leader, policy: Self.policy, now: .seconds(10)).actions == [
                .fence(node: "a", reason: .agentStopping), .releaseLeadership(term: 7, reason: .agentStopping),
            ], "maintenance changes nothing: an operator's failover may follow, so no unguarded writable primary is left")
        var standby = Self.standbyView(leader: "a")
        standby.shuttingDown = true
        #expect(decide(standby, policy: Self.policy, now: .seconds(10)).actions == [])
    }

    /// A rebooted or restarted primary's agent that cannot reach etcd and has no lease it
    /// could confirm: it may have been deposed meanwhile, so its database must not stay writable.
    @Test func aWritableDatabaseWithoutALeaseOrEtcdIsFenced() {
        var restarted = Self.primaryView(etcd: false)
        restarted.lease = nil
        let decision = decide(restarted, policy: Self.policy, now: .seconds(10))
        #expect(decision.rule == "unleased-primary-without-etcd")
        #expect(decision.actions.first == .fence(node: "a", reason: .unleasedWithoutEtcd))
        restarted.leader = nil
        #expect(decide(restarted, policy: Self.policy, now: .seconds(10)).rule == "unleased-primary-without-etcd", "no leader known either")

        var forced = restarted
        forced.local.forcedPromotion = true
        #expect(decide(forced, policy: Self.policy, now: .seconds(10)).rule == "etcd-unreachable", "an operator's forced promotion stays writable")
        var adopted = Self.primaryView(renewedAt: 8, etcd: false)
        adopted.leader = nil
        #expect(
            decide(adopted, policy: Self.policy, now: .seconds(10)).rule == "etcd-unreachable",
            "a lease adopted from the watchdog's file keeps the database up until its deadline")
        #expect(decide(adopted, policy: Self.policy, now: .seconds(12)).rule == "fence-on-lease-deadline")
        var standby = Self.standbyView(etcd: false)
        standby.lease = nil
        #expect(decide(standby, policy: Self.policy, now: .seconds(10)).rule == "etcd-unreachable", "a standby is read-only already")
    }

    /// A long WAL replay can outlast the lease: the node may turn writable at any moment,
    /// so an overdue renewal fences it like a primary (as the watchdog would).
    @Test func aPromotionThatCannotRenewItsLeaseIsFenced() {
        var promoting = Self.standbyView(leader: "b", term: 8)
        promoting.work.promotion = .signalled
        promoting.lease = LeaseBookkeeping(term: 8, ttl: .seconds(5), lastConfirmedRenewalSentAt: .seconds(9))
        #expect(decide(promoting, policy: Self.policy, now: .seconds(12)).rule == "leader-promotes", "renewed in time: keep promoting")
        promoting.etcdReachable = false
        #expect(decide(promoting, policy: Self.policy, now: .seconds(13)).rule == "fence-on-lease-deadline")
        promoting.work.promotion = .idle
        #expect(decide(promoting, policy: Self.policy, now: .seconds(13)).rule == "etcd-unreachable", "a standby not promoting is read-only")
    }

    /// A primary that stopped answering may only be stalled: cut off from etcd past its
    /// lease deadline it is fenced, as a writable one would be.
    @Test func anUnansweringLeaderIsFencedAtItsLeaseDeadline() {
        let stalled = Self.primaryView(failed: 1, renewedAt: 6, etcd: false, state: .down)
        #expect(decide(stalled, policy: Self.policy, now: .seconds(10)).rule == "fence-on-lease-deadline")
        #expect(decide(stalled, policy: Self.policy, now: .seconds(8)).rule == "etcd-unreachable", "before the deadline it waits")
    }

    /// After a failed fence the leader renews before it tries again: releasing the key
    /// would let a standby be promoted beside a server that may still take writes.
    @Test func aFailedFenceKeepsTheLeaseWhileItIsRetried() throws {
        var failing = Self.primaryView(failed: 3, state: .down)
        let first = decide(failing, policy: Self.policy, now: .seconds(10))
        #expect(first.rule == "leader-database-failed")
        #expect(first.actions.first.map { if case .fence = $0 { true } else { false } } == true)
        failing.work.fence = .failed("pg_ctl stop timed out")
        let retry = decide(failing, policy: Self.policy, now: .seconds(11))
        #expect(retry.rule == "leader-database-failed")
        #expect(
            retry.actions == [
                .renewLease(term: 7), .holdForOperator(reason: .fenceFailed(node: "a")),
                .fence(node: "a", reason: .databaseFailedChecks(3)), .releaseLeadership(term: 7, reason: .databaseFailedChecks(3)),
            ])
    }

    @Test func aFencedNodeRunningInRecoveryIsNeverACandidate() {
        // Started by init after the fence, it runs read-only; it stays fenced, never promoted.
        let fenced = Self.standbyView("a", leader: nil, state: .fenced, members: [Self.member("a", lsn: 2000), Self.member("c", lsn: 900)])
        #expect(
            decide(fenced, policy: Self.policy, now: .seconds(20)).actions.allSatisfy {
                if case .acquireLeadership = $0 { false } else if case .promote = $0 { false } else { true }
            })
    }

    @Test func autoRejoinRejoinsAFencedOldPrimary() {
        var policy = Self.policy
        policy.autoRejoin = true
        let promoting = Self.standbyView("a", leader: "b", term: 8, state: .fenced)
        #expect(decide(promoting, policy: policy, now: .seconds(11)).actions == [], "the new leader is not writable yet: nothing to rewind from")
        let stuck = Self.pastTheFork(leaderTimeline: 2)
        #expect(decide(stuck, policy: policy, now: .seconds(45)).actions == [.rejoin(node: "a", leader: "b", term: 8)], "a standby past the fork too")
        let promoted = Self.standbyView("a", leader: "b", term: 8, state: .fenced, members: [Self.member("b", .primary)])
        #expect(decide(promoted, policy: policy, now: .seconds(11)).actions == [.rejoin(node: "a", leader: "b", term: 8)])
        var failed = promoted
        failed.work.rejoinFailed = RejoinFailure(term: 8, message: "pg_rewind exited 1", at: .seconds(12))
        #expect(
            decide(failed, policy: policy, now: .seconds(13)).actions == [
                .holdForOperator(reason: .rejoinFailed(node: "a", message: "pg_rewind exited 1"))
            ], "not retried at once under the same term")
        #expect(
            decide(failed, policy: policy, now: .seconds(43)).actions == [.rejoin(node: "a", leader: "b", term: 8)],
            "tried again after rejoinRetry: the leader may only have been restarting")
        failed.leader?.term = 9
        #expect(decide(failed, policy: policy, now: .seconds(12)).actions == [.rejoin(node: "a", leader: "b", term: 9)], "a new leader: try again")
    }

    /// A confirmed failover drill: only the leader, only while its primary is healthy.
    @Test func theLeaderCrashesItsHealthyPrimaryForADrillAndNobodyElse() {
        var asked = Self.primaryView()
        asked.requests.drillCrash = true
        let crash = decide(asked, policy: Self.policy, now: .seconds(10))
        #expect(crash.rule == "leader-crashes-for-drill" && crash.actions == [.crashForDrill(node: "a", term: 7)])
        var failing = Self.primaryView(failed: 1)
        failing.requests.drillCrash = true
        #expect(!decide(failing, policy: Self.policy, now: .seconds(10)).actions.contains(.crashForDrill(node: "a", term: 7)))
        var standby = Self.standbyView(leader: "a")
        standby.requests.drillCrash = true
        #expect(!decide(standby, policy: Self.policy, now: .seconds(10)).actions.contains { if case .crashForDrill = $0 { true } else { false } })
    }
}

/// A writable node promoted by hand while its agent was stopped (issue 26): with the key free
/// it takes it only if it led last, nobody did, or an operator forced its promotion.
@Suite struct FreeKeyClaimTests {
    static func primaryWithFreeKey(lastLeader: String?, forced: Bool = false) -> ClusterView {
        var view = DecideTests.primaryView(leader: nil)
        view.primaryProgress = lastLeader.map { PrimaryProgress(node: $0, timeline: 1, lsn: LSN(5000), standbyLagSeconds: [:]) }
        view.local.forcedPromotion = forced
        view.local.timeline = 2
        return view
    }

    @Test func onlyTheLastLeaderNobodyOrAForcedPromotionClaimsTheFreeKey() {
        let policy = DecideTests.policy
        let claim: [Action] = [.acquireLeadership(reason: .onlyPrimaryKeyFree(node: "a"))]
        #expect(decide(Self.primaryWithFreeKey(lastLeader: "a"), policy: policy, now: .seconds(10)).actions == claim)
        #expect(decide(Self.primaryWithFreeKey(lastLeader: nil), policy: policy, now: .seconds(10)).actions == claim, "a new cluster")
        #expect(decide(Self.primaryWithFreeKey(lastLeader: "b", forced: true), policy: policy, now: .seconds(10)).actions == claim)
        let byHand = decide(Self.primaryWithFreeKey(lastLeader: "b"), policy: policy, now: .seconds(10))
        #expect(byHand.rule == "primary-claims-free-key")
        #expect(byHand.actions == [.holdForOperator(reason: .writableButNotLastLeader(node: "a", lastLeader: "b", timeline: 1))])
    }
}
