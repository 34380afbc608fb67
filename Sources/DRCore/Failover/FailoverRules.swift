/// One row of the failover table: when it applies and what it asks for. `decide` takes
/// the first row that applies, so the order is part of the rules.
public struct FailoverRule: Sendable {
    public var id: String
    /// One sentence an operator can read in `drctl debug rules` and in logs.
    public var summary: String
    /// The actions when the rule applies; nil when it does not.
    let evaluate: @Sendable (RuleInput) -> [Action]?
}

/// What a rule sees: the view, the policy and the time, with a few derived facts.
public struct RuleInput: Sendable {
    public var view: ClusterView
    public var policy: FailoverPolicy
    public var now: AgentInstant

    var me: String { view.me }
    var local: LocalDatabase { view.local }
    var requests: NodeRequests { view.requests }
    var work: LocalWork { view.work }
    var leaderTerm: Int64? { view.leader?.term }
    /// N checks failed in a row; or one did and the postmaster process is gone (a crash is
    /// certain, not a flap) and no restart is left to try.
    var failed: Bool {
        local.failedChecks >= policy.failuresInARow
            || (local.postmasterGone && local.failedChecks > 0 && work.restartsTried >= policy.restartAttempts)
    }
    var anotherPrimary: MemberRecord? { view.members.first { $0.name != me && $0.role == .primary } }

    /// Synchronous mode: the standbys the lost leader recorded as holding every
    /// acknowledged commit (empty when it recorded none, or the record is another leader's).
    /// Nil in asynchronous mode.
    var synchronousSet: Set<String>? {
        guard policy.synchronous else { return nil }
        guard let record = view.synchronous, record.leader == view.primaryProgress?.node else { return [] }
        return Set(record.standbys)
    }

    /// The leader's DNS switches: each managed record not yet pointed at its target under
    /// this term, unless a switch is running or failed less than `dnsRetry` ago; and each
    /// one verified more than `dnsRecheck` ago, to read it again and repair any drift.
    func dnsSwitches(term: Int64) -> [Action] {
        policy.dnsRecords.compactMap { binding in
            // This agent is the leader: as primary, whatever its member record still says.
            var members = view.members.filter { $0.name != me }
            if let mine = view.members.first(where: { $0.name == me }) {
                var promoted = mine
                promoted.role = .primary
                promoted.healthy = true
                members.append(promoted)
            }
            guard let node = DNSTargets.node(for: binding.target, leader: me, members: members) else { return nil }
            if let state = view.dns[binding.record], state.node == node, state.term == term {
                switch state.phase {
                case .inFlight: return nil
                case .synced(let at) where now - at < policy.dnsRecheck: return nil
                case .failed(let at) where now - at < policy.dnsRetry: return nil
                case .synced, .failed: break
                }
            }
            return .switchDNS(record: binding.record, to: node, term: term)
        }
    }
}

extension FailoverRule {
    /// The table. Read it top to bottom: the first row that applies decides.
    public static let table: [FailoverRule] =
        [
            FailoverRule(
                id: "agent-stopping",
                summary:
                    "A stopping leader agent renews its lease one last time and leaves its database running when a watchdog guards the lease (a restart within the lease is no failover; an agent that stays stopped is fenced at the deadline); without a watchdog it fences, then releases the key. Maintenance changes nothing here: an operator's failover may follow."
            ) { input in
                guard input.view.shuttingDown else { return nil }
                guard input.view.iAmLeader, let term = input.leaderTerm, input.local.state != .fenced else { return [] }
                // The renewal gives the restarted agent the whole TTL to take the lease over.
                if input.view.watchdogGuardsLease { return [.renewLease(term: term)] }
                return [.fence(node: input.me, reason: .agentStopping), .releaseLeadership(term: term, reason: .agentStopping)]
            },
            FailoverRule(
                id: "fence-on-lease-deadline",
                summary:
                    "A leader whose database may accept writes (a primary, one that stopped answering but was not seen to stop, a standby being promoted) fences it when its lease renewal is overdue, before the lease can expire in etcd."
            ) { input in
                // A server that answers no health check may only be stalled: it takes writes again when it wakes.
                guard input.local.state == .primary || input.local.state == .down || input.work.promotion.mayTurnWritable,
                    SafetyChecks.mustSelfFence(input.view.lease, now: input.now, margin: input.policy.fencingMargin)
                else { return nil }
                return [.fence(node: input.me, reason: .leaseRenewalOverdue), .alert(reason: .fencedItselfLeaseOverdue(node: input.me))]
            },
            FailoverRule(
                id: "unleased-primary-without-etcd",
                summary:
                    "A writable database whose agent holds no confirmed lease and cannot reach etcd is fenced: it may have been deposed while it was down or cut off (a rebooted host, a restarted agent). Only a forced promotion is exempt."
            ) { input in
                guard input.local.state == .primary, !input.view.etcdReachable, input.view.lease == nil, !input.local.forcedPromotion else { return nil }
                return [.fence(node: input.me, reason: .unleasedWithoutEtcd), .alert(reason: .fencedItselfUnleased(node: input.me))]
            },
            FailoverRule(
                id: "switchover-stop-failed",
                summary:
                    "Switchover: the leader's clean stop failed (the shutdown outlasted its limit, the server may still run): its database is fenced the ordinary way, then the key is released and the ordinary failover rules follow. If the fence fails, the leader keeps its lease while it tries again (and waits for an operator): no standby is promoted beside a server that may still take writes."
            ) { input in
                guard input.view.iAmLeader, let term = input.leaderTerm, let failure = input.work.handoverFailed, failure.term == term else { return nil }
                let why = Reason.switchoverFailed(error: failure.message)
                guard input.work.fence.failed else { return [.fence(node: input.me, reason: why), .releaseLeadership(term: term, reason: why)] }
                return [
                    .renewLease(term: term), .holdForOperator(reason: .fenceFailed(node: input.me)),
                    .fence(node: input.me, reason: why), .releaseLeadership(term: term, reason: why),
                ]
            },
        ] + restarts + [
            FailoverRule(
                id: "paused",
                summary:
                    "Maintenance: no automatic promotion or restart; the leader keeps its lease (also while its server restarts), and fencing stays armed (the two rules above, and a writable database whose node does not hold the key is fenced), so an operator's `drctl failover`, still carried out, never promotes beside a writable old primary."
            ) { input in
                guard input.view.paused, input.view.failoverIntent == nil else { return nil }
                if input.local.state == .primary, !input.local.forcedPromotion, let leader = input.view.leader, leader.node != input.me {
                    return [.fence(node: input.me, reason: .otherLeader(node: leader.node, term: leader.term))]
                }
                // A server restarted by hand (the reason to pause) is down for a moment: the key stays.
                if input.view.iAmLeader, input.local.state == .primary || input.local.state == .down, let term = input.leaderTerm {
                    return [.renewLease(term: term)]
                }
                return []
            },
            FailoverRule(
                id: "failsafe-leader-asks-members",
                summary:
                    "Failsafe, etcd unreachable: the leader asks every member listed in the `failsafe` key to confirm it under its term; if all do, its lease counts as renewed when it asked (each member promises to take no key for a TTL). Anyone silent or refusing: the lease deadline fences as usual."
            ) { input in
                guard input.policy.failsafe, !input.view.etcdReachable, input.local.state == .primary, let lease = input.view.lease,
                    let record = input.view.failsafe, record.leader == input.me, record.term == lease.term
                else { return nil }
                return [.askFailsafeMembers(record.others, term: lease.term)]
            },
            FailoverRule(id: "etcd-unreachable", summary: "Without etcd nothing is safe to start: standbys never promote, the primary runs until its lease deadline.") { input in
                input.view.etcdReachable ? nil : []
            },
            FailoverRule(
                id: "failsafe-promise-holds",
                summary:
                    "With the leader key free, a node that confirmed a leader running without etcd takes no key until its promise ends: that leader may still accept writes."
            ) { input in
                guard input.view.leader == nil, input.view.failsafePromise?.binds(input.me, at: input.now) == true else { return nil }
                return []
            },
            FailoverRule(
                id: "empty-node-clones",
                summary:
                    "A node whose data directory is empty, or whose rebuild an operator asked for (`drctl reinit`), and which does not lead, is built anew as a standby of the writable leader (from the repository or the primary, as `replica.create_from` says). Without such a leader it waits; a failed build is tried again after a while."
            ) { input in
                guard input.local.dataDirectoryEmpty || input.requests.reclone, input.local.state != .primary, !input.view.iAmLeader else { return nil }
                guard !input.work.fence.isUnderway else { return [] }
                guard let leader = input.view.leader, leader.node != input.me,
                    input.view.members.contains(where: { $0.name == leader.node && $0.role == .primary })
                else {
                    return input.local.dataDirectoryEmpty ? [.holdForOperator(reason: .nothingToCloneFrom(node: input.me))] : []
                }
                if let failure = input.work.cloneFailed, failure.term == leader.term, failure.at.map({ input.now - $0 < input.policy.rejoinRetry }) ?? true {
                    return [.holdForOperator(reason: .cloneFailed(node: input.me, message: failure.message))]
                }
                return [.cloneStandby(node: input.me, leader: leader.node, term: leader.term)]
            },
            FailoverRule(
                id: "last-leader-resumes",
                summary:
                    "A fenced or stopped node that led last (its progress is the newest in etcd) starts as a read-only standby once the key has been free a while and no other node can take over: it holds every commit, and the ordinary rules then decide whether it is promoted. Never while its fence is still under way."
            ) { input in
                let stopped = input.local.state == .fenced || (input.local.state == .down && input.local.postmasterGone)
                guard stopped, !input.work.fence.isUnderway, input.view.leader == nil, input.view.primaryProgress?.node == input.me else { return nil }
                // A node that may take over (a primary, or a healthy standby not waiting for an
                // operator) goes first; the last leader is the way out when none is left.
                let another = input.view.members.contains { member in
                    member.name != input.me && (member.role == .primary || (member.role == .standby && member.healthy && member.hold == nil))
                }
                guard !another, let since = input.view.leaderMissingSince, input.now - since >= input.policy.betterCandidateWait else { return nil }
                if let failed = input.work.resumeFailedAt, input.now - failed < input.policy.rejoinRetry {
                    return [.holdForOperator(reason: .lastLeaderCannotStart(node: input.me))]
                }
                return [.resumeAsStandby(node: input.me, reason: .lastLeaderResumes(node: input.me))]
            },
            FailoverRule(
                id: "fenced-stays-fenced",
                summary:
                    "A fenced node never accepts writes again until it is rejoined as a standby of a writable leader: with auto_rejoin, after it handed over in a switchover, or when an operator asks. A failed rejoin is tried again after a while (its cause often passes), meanwhile it waits for an operator."
            ) { input in
                guard input.local.state == .fenced else { return nil }
                if let leader = input.view.leader, leader.node != input.me {
                    if let failure = input.work.rejoinFailed, failure.term == leader.term,
                        failure.at.map({ input.now - $0 < input.policy.rejoinRetry }) ?? true
                    {
                        return [.holdForOperator(reason: .rejoinFailed(node: input.me, message: failure.message))]
                    }
                    // Rewinding from a leader still in recovery would find nothing to rewind, and
                    // the old primary's extra WAL would then block it from following the new timeline.
                    let leaderIsPrimary = input.view.members.contains { $0.name == leader.node && $0.role == .primary }
                    if input.policy.autoRejoin || input.local.fencedForSwitchover || input.requests.rejoin {
                        return leaderIsPrimary ? [.rejoin(node: input.me, leader: leader.node, term: leader.term)] : []
                    }
                    return [.holdForOperator(reason: .fencedUntilRejoined(node: input.me))]
                }
                return []
            },
            FailoverRule(
                id: "leader-database-failed",
                summary:
                    "The leader's own database failed N checks in a row, or its postmaster process is gone: fence it, then release the key at once (the fast path). If fencing failed, the leader keeps its lease while it tries again: no standby is promoted beside a server that may still take writes."
            ) { input in
                guard input.view.iAmLeader, input.failed, let term = input.leaderTerm else { return nil }
                let why: Reason = input.local.postmasterGone ? .postmasterGone : .databaseFailedChecks(input.local.failedChecks)
                guard input.work.fence.failed else { return [.fence(node: input.me, reason: why), .releaseLeadership(term: term, reason: why)] }
                return [
                    .renewLease(term: term), .holdForOperator(reason: .fenceFailed(node: input.me)),
                    .fence(node: input.me, reason: why), .releaseLeadership(term: term, reason: why),
                ]
            },
            FailoverRule(
                id: "leader-restarts-database", summary: "Only if configured: the leader restarts its crashed database while failures are still below the threshold, a bounded number of times."
            ) {
                input in
                guard input.view.iAmLeader, let term = input.leaderTerm, input.local.state == .down, input.local.failedChecks > 0,
                    input.work.restartsTried < input.policy.restartAttempts
                else { return nil }
                return [.renewLease(term: term), .restartDatabase(node: input.me, term: term)]
            },
            FailoverRule(
                id: "leader-hands-over", summary: "Switchover: once due, the leader stops its database cleanly and hands the key to a healthy standby target; until the target is healthy it waits."
            ) { input in
                guard input.view.iAmLeader, input.local.state == .primary, let term = input.leaderTerm, let intent = input.view.switchover,
                    intent.phase == .requested, intent.to != input.me, input.view.switchoverDue
                else { return nil }
                guard input.view.members.contains(where: { $0.name == intent.to && $0.role == .standby && $0.healthy }) else {
                    return [.renewLease(term: term), .holdForOperator(reason: .switchoverTargetUnhealthy(target: intent.to))]
                }
                // Renewed first: the clean stop must finish well inside the lease.
                return [.renewLease(term: term), .handOver(intent, term: term)]
            },
            FailoverRule(
                id: "leader-promotes",
                summary: "A standby that won the leader key renews it, promotes itself under that term (renewing the lease while the promotion runs), then points the managed DNS records at itself."
            ) { input in
                guard input.view.iAmLeader, input.local.state == .standby, let term = input.leaderTerm else { return nil }
                return [.renewLease(term: term), .promote(node: input.me, term: term)] + input.dnsSwitches(term: term)
            },
            FailoverRule(
                id: "leader-crashes-for-drill",
                summary:
                    "A confirmed failover drill on a real cluster: the leader's agent stops its own healthy primary with an immediate shutdown, once; what follows is the failover any crash causes."
            ) { input in
                guard input.requests.drillCrash, input.view.iAmLeader, input.local.state == .primary, input.local.failedChecks == 0,
                    let term = input.leaderTerm
                else { return nil }
                return [.crashForDrill(node: input.me, term: term)]
            },
            FailoverRule(
                id: "leader-renews",
                summary:
                    "The leader keeps its lease while its database is up or failing below the threshold, keeps one healthy standby synchronous and recorded in etcd (if configured), the live members listed in the `failsafe` key (with failsafe), a replication slot per configured node (and none for removed ones), and the managed DNS records pointed at their targets."
            ) { input in
                guard input.view.iAmLeader, let term = input.leaderTerm else { return nil }
                var actions: [Action] = [.renewLease(term: term)]
                if input.policy.synchronous, input.local.state == .primary,
                    let step = SynchronousReplication.nextStep(
                        me: input.me, term: term, record: input.view.synchronous,
                        configured: input.local.synchronousStandbys, confirmed: input.local.synchronousConfirmed,
                        members: input.view.members, strict: input.policy.synchronousStrict, commitsSkipSynchronous: input.local.commitsSkipSynchronous)
                {
                    actions.append(step)
                }
                if input.policy.failsafe, input.local.state == .primary {
                    let listed = FailsafeRecord(leader: input.me, term: term, members: input.view.recentMembers + input.view.members.map(\.name) + [input.me])
                    if input.view.failsafe != listed { actions.append(.publishFailsafe(listed)) }
                }
                if input.local.state == .primary {
                    actions += input.dnsSwitches(term: term)
                    // Last: a slot that cannot be created (max_replication_slots) must not hold
                    // up a DNS switch.
                    let slots = ReplicationSlots.plan(existing: input.local.slots, leader: input.me, nodes: input.policy.slotNodes, ignored: input.policy.ignoredSlots)
                    if !slots.create.isEmpty || !slots.drop.isEmpty { actions.append(.keepSlots(create: slots.create, drop: slots.drop, term: term)) }
                }
                return actions
            },
            FailoverRule(
                id: "forced-primary-waits",
                summary:
                    "A primary an operator promoted without etcd is not fenced for a stale leader key: it waits for the key to expire, and if another live primary holds it, it is a split brain for the operator."
            ) { input in
                guard input.local.state == .primary, input.local.forcedPromotion, let leader = input.view.leader, leader.node != input.me else { return nil }
                if input.view.members.contains(where: { $0.name == leader.node && $0.role == .primary }) {
                    return [
                        .alert(reason: .forcedSplitBrain(node: input.me, leader: leader.node)),
                        .holdForOperator(reason: .twoPrimaries(forced: input.me, leader: leader.node, term: leader.term)),
                    ]
                }
                return []
            },
            FailoverRule(id: "foreign-primary-fences", summary: "A writable database whose node does not hold the leader key, while another holds it or reports primary, is fenced.") { input in
                guard input.local.state == .primary else { return nil }
                if let leader = input.view.leader, leader.node != input.me {
                    return [.fence(node: input.me, reason: .otherLeader(node: leader.node, term: leader.term))]
                }
                if let other = input.anotherPrimary {
                    return [.fence(node: input.me, reason: .otherPrimary(node: other.name))]
                }
                return nil
            },
            FailoverRule(
                id: "primary-claims-free-key",
                summary:
                    "The only writable database takes the free leader key (start-up, or after a release without a failover) if it led last, or nobody did, or an operator forced its promotion; one promoted by hand while its agent was stopped would erase the last leader's later writes, so it waits for an operator."
            ) { input in
                guard input.local.state == .primary, input.view.leader == nil, !input.failed else { return nil }
                if let last = input.view.primaryProgress, last.node != input.me, !input.local.forcedPromotion {
                    return [.holdForOperator(reason: .writableButNotLastLeader(node: input.me, lastLeader: last.node, timeline: last.timeline))]
                }
                return [.acquireLeadership(reason: .onlyPrimaryKeyFree(node: input.me))]
            },
            FailoverRule(
                id: "standby-follows-leader",
                summary:
                    "While a leader exists, a standby streams from it and does nothing else; one left on an older timeline than the leader's, not streaming for a while (its WAL went past the fork: a rebooted old primary), is rewound like a fenced node (with auto_rejoin, or when an operator asks)."
            ) { input in
                guard let leader = input.view.leader else { return nil }
                guard input.local.state == .standby else { return [] }
                if input.local.streamingFrom != leader.node {
                    return [.follow(node: input.me, leader: leader.node, term: leader.term)]
                }
                guard let mine = input.local.timeline, let since = input.local.upstreamLostSince, input.now - since >= input.policy.rejoinRetry,
                    let theirs = input.view.members.first(where: { $0.name == leader.node && $0.role == .primary })?.timeline, theirs > mine
                else { return [] }
                if let failure = input.work.rejoinFailed, failure.term == leader.term, failure.at.map({ input.now - $0 < input.policy.rejoinRetry }) ?? true {
                    return [.holdForOperator(reason: .rejoinFailed(node: input.me, message: failure.message))]
                }
                guard input.policy.autoRejoin || input.requests.rejoin else {
                    return [.holdForOperator(reason: .cannotFollow(node: input.me, timeline: mine, leader: leader.node, leaderTimeline: theirs))]
                }
                return [.rejoin(node: input.me, leader: leader.node, term: leader.term)]
            },
            FailoverRule(
                id: "switchover-target-takes-over",
                summary:
                    "Switchover, second half: with the old primary stopped, only the target takes the key, once it has received all of its WAL (zero loss by LSN); after a bounded wait the ordinary rules apply."
            ) { input in
                guard input.view.leader == nil, let intent = input.view.switchover, intent.phase == .demoted else { return nil }
                if let since = input.view.leaderMissingSince, input.now - since > input.policy.switchoverTimeout { return nil }
                guard intent.to == input.me else { return [] }
                guard input.local.state == .standby, input.local.failedChecks == 0 else { return [] }
                guard let end = intent.endLSN, let received = input.local.lsn, received >= end else { return [] }
                return [.acquireLeadership(reason: .switchoverTarget(node: input.me, from: intent.from, receivedUpTo: end))]
            },
            FailoverRule(
                id: "not-a-candidate",
                summary:
                    "With the leader key free, a node that is not a healthy standby (a restore still replaying the archive is not one), or is tagged nofailover, or is not the operator's choice, stays put."
            ) { input in
                let intent = input.view.failoverIntent
                if input.local.state != .standby || input.local.failedChecks > 0 || input.local.archiveRecovery { return [] }
                if let target = intent?.to, target != input.me { return [] }
                if input.local.tags.contains(.nofailover), intent?.to != input.me { return [] }
                return nil
            },
            FailoverRule(
                id: "failsafe-outsider-waits",
                summary:
                    "Failsafe: a candidate the lost leader did not list in its `failsafe` key was never asked to confirm it, so that leader may still be writable without etcd: it waits for an operator, whose `drctl failover --to` it follows."
            ) { input in
                guard input.policy.failsafe, input.view.leader == nil, let record = input.view.failsafe, record.leader == input.view.primaryProgress?.node,
                    record.leader != input.me, !record.members.contains(input.me), input.view.failoverIntent?.to != input.me
                else { return nil }
                return [.holdForOperator(reason: .notFailsafeMember(node: input.me, leader: record.leader))]
            },
            FailoverRule(id: "cooldown", summary: "No automatic failover within the cooldown after the last one (against ping-pong); an operator intent overrides.") { input in
                guard input.view.failoverIntent == nil, let last = input.view.lastFailoverSeen,
                    input.now - last < input.policy.cooldown
                else { return nil }
                return [.holdForOperator(reason: .cooldown(sinceLastFailover: input.now - last, cooldown: input.policy.cooldown))]
            },
            FailoverRule(id: "wait-for-better-candidate", summary: "A candidate that knows a better-placed one (in synchronous mode: a recorded synchronous one) waits for it, for a bounded time.") {
                input in
                guard input.view.failoverIntent?.to != input.me else { return nil }
                let eligible = input.synchronousSet.map { set in input.view.members.filter { set.contains($0.name) } } ?? input.view.members
                let ranked = SafetyChecks.rankCandidates(eligible, timeline: input.view.primaryProgress?.timeline, progress: input.view.primaryProgress)
                guard let best = ranked.first, best.name != input.me else { return nil }
                let missingFor = input.view.leaderMissingSince.map { input.now - $0 } ?? .zero
                return missingFor < input.policy.betterCandidateWait ? [] : nil
            },
            FailoverRule(
                id: "synchronous-gate",
                summary:
                    "Synchronous mode: only the lost leader itself, back read-only, or a standby it recorded as synchronous holds every acknowledged commit; it takes over without an RPO estimate. Others leave it to that standby, or wait for an operator when none is available."
            ) { input in
                guard let set = input.synchronousSet, input.view.failoverIntent?.acceptDataLoss != true else { return nil }
                guard input.local.timeline == input.view.primaryProgress?.timeline else { return nil }  // the RPO gate explains it
                // The lost leader itself (back read-only after a fence or a reboot) acknowledged
                // those commits from its own WAL: it holds every one of them.
                if input.view.primaryProgress?.node == input.me {
                    return [.acquireLeadership(reason: .lostLeaderHoldsEveryCommit(node: input.me))]
                }
                if set.contains(input.me) {
                    return [.acquireLeadership(reason: .synchronousStandby(node: input.me))]
                }
                if input.view.members.contains(where: { set.contains($0.name) && $0.role == .standby && $0.healthy }) { return [] }
                return [.holdForOperator(reason: .synchronousStandbyUnavailable(node: input.me, recorded: set.sorted()))]
            },
            FailoverRule(id: "rpo-gate", summary: "Beyond the RPO (or with an unknown loss) nothing is promoted: manual intervention, with the numbers.") { input in
                if input.view.failoverIntent?.acceptDataLoss == true { return nil }
                if let timeline = input.view.primaryProgress?.timeline, input.local.timeline != timeline {
                    return [.holdForOperator(reason: .timelineMismatch(node: input.me, timeline: input.local.timeline, lostPrimaryTimeline: timeline))]
                }
                let verdict = SafetyChecks.rpoGate(candidate: input.me, candidateLSN: input.local.lsn, primaryProgress: input.view.primaryProgress, rpo: input.policy.rpo)
                guard case .beyond(let bytes, let seconds) = verdict else { return nil }
                return [.holdForOperator(reason: .beyondRPO(node: input.me, rpo: input.policy.rpo, lossBytes: bytes, lossSeconds: seconds))]
            },
            FailoverRule(
                id: "take-over",
                summary:
                    "The primary is lost and this standby is the best candidate within the RPO (or an operator's failover accepted the loss): take the leader key (promotion follows under its term)."
            ) { input in
                // The log and the evidence say which: a loss accepted by an operator is not "within the RPO".
                if input.view.failoverIntent?.acceptDataLoss == true { return [.acquireLeadership(reason: .dataLossAccepted(node: input.me))] }
                return [.acquireLeadership(reason: .bestCandidateWithinRPO(node: input.me))]
            },
        ]
}
