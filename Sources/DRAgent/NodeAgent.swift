import DRCoordination
import DRCore
import DRDNS
import DRPostgres
import DRSystem
import Foundation
import Logging

/// The loop for one node: observe, decide, act, publish — once per health interval.
///
/// Everything about *what* to do is in DRCore's `decide`; this actor only gathers the
/// view, carries out the actions (refusing any whose term is stale) and keeps the
/// bookkeeping the view needs (lease renewals, when the leader went missing, evidence).
public actor NodeAgent {
    // A reload replaces these at the start of a loop (see `reload`).
    var config: ClusterConfig
    var region: RegionConfig
    var node: NodeConfig
    var policy: FailoverPolicy
    var database: any DatabaseController
    /// Provider clients, or why they could not be built (a missing credential).
    var dns: Result<DNSSwitcher, any Error>
    /// A reloaded configuration waiting for the next loop, and its file's hash.
    var reloaded: (config: ClusterConfig, hash: String)?
    /// The hash of the configuration file the node runs, published in its member record.
    var configHash = ""
    /// Runs `hooks:` one at a time, off the loop; the role they last announced.
    let hooks: RoleHooks
    var hookRoleAnnounced: String?

    let coordinator: any Coordinator
    let stateDir: String
    let log: Logger
    let clock: any AgentClock

    // Bookkeeping carried from tick to tick.
    /// The database's failure streak, check by check.
    var health = HealthStreak()
    /// The leader lease as this agent holds it (id and bookkeeping).
    var leaderLease = LeaderLeaseState()
    /// What this agent last wrote to etcd about itself (`PublicationSchedule`).
    var published = EtcdPublication()
    var leader: LeaderRecord?
    var members: [MemberRecord] = []
    var primaryProgress: PrimaryProgress?
    /// This agent's wall clock against the leader's, as the progress shows it.
    var clockOffset = ClockOffset()
    /// The lost primary's progress as it was when this node began to promote (its own claim
    /// replaces it in etcd): what the failover's evidence measures the loss against.
    var progressBeforePromotion: PrimaryProgress?
    var leaderMissingSince: AgentInstant?
    var lastTermSeen: Int64?
    var lastFailoverSeen: AgentInstant?
    var lastHold: Reason?
    var evidence: EvidenceRecorder?
    var evidenceReason: String?
    /// The promotion whose evidence waits for its DNS switch.
    var evidenceAwaiting: (term: Int64, local: LocalDatabase)?
    var dnsState: [String: DNSRecordState] = [:]
    /// The DNS switches of the decision being executed, launched together after it.
    var dnsBatch: [DNSBatchItem] = []
    var lastLocal: LocalDatabase?
    /// The leader's member record as last seen while it lived: its failure streak starts
    /// the evidence of the failover that replaces it.
    var lastLeaderMember: MemberRecord?
    /// When this agent first read `lastLeaderMember` as it is now (its own clock).
    var lastLeaderMemberSeenAt: AgentInstant?
    /// When this agent first read the switchover intent in its `demoted` phase: the old
    /// primary stopped just before (its own clock; no other machine's time is used).
    var handoverSeenAt: AgentInstant?
    /// Fires at the lease deadline unless a renewal re-arms it first (see `armLeaseDeadline`).
    var deadlineTimer: Task<Void, Never>?
    /// This agent's work on its database: fences, promotion, failed attempts (`decide` sees it).
    var work = LocalWork()
    /// The next lease renewal while a promotion runs (see `promoteKeepingTheLease`).
    var promotionHeartbeat: Task<Void, Never>?
    /// A watchdog process guards the published lease and outlives this agent.
    let watchdogGuardsLease: Bool
    /// Failsafe: the membership, this member's promise, the episode under way.
    var failsafe = FailsafeState()
    /// The episode that ended with etcd's return, to be written to the history.
    var endedFailsafeEpisode: FailsafeEpisode?
    /// How the leader reaches the other members' agents without etcd.
    let failsafePeers: any FailsafePeers

    /// Where the HTTP API reads this node's state, and the process's metrics.
    let board: AgentStateBoard
    let metrics: AgentMetrics
    /// Where events a person must hear of go (`notifications:`).
    let notifier: any Notifier
    /// etcd stopped answering this agent at this instant; whether that was notified.
    var etcdLostAt: AgentInstant?
    var etcdLossNotified = false
    /// Keys this agent already handed over: a fence or DNS switch retried every loop is one event.
    var notifiedKeys: Set<String> = []
    var lastRule = "none"
    var lastSkipped: Set<SkippedRecord> = []
    /// This primary's WAL positions over time: the standbys' loss windows on this clock.
    var walHistory: WALHistory

    /// - Parameters:
    ///   - database: the server beside the agent; PostgreSQL through libpq and `pg_ctl` unless given.
    ///   - clock: the host's monotonic clock unless given (tests pass a manual one).
    ///   - watchdogGuardsLease: a `FencingWatchdog` process guards the published lease and
    ///     outlives this agent (then stopping the agent is no failover).
    ///   - failsafePeers: the other members' agent APIs over HTTP unless given.
    public init(
        config: ClusterConfig, region: RegionConfig, node: NodeConfig, coordinator: any Coordinator, stateDir: String, log: Logger,
        database: (any DatabaseController)? = nil, clock: any AgentClock = SystemAgentClock(),
        board: AgentStateBoard = AgentStateBoard(), metrics: AgentMetrics = AgentMetrics(), watchdogGuardsLease: Bool = false,
        failsafePeers: (any FailsafePeers)? = nil, notifier: any Notifier = SilentNotifier(),
        recordHookRun: @escaping @Sendable (HookRun) async -> Void = { _ in }
    ) {
        self.hooks = RoleHooks(node: node.name, log: log, record: recordHookRun)
        self.notifier = notifier
        self.failsafePeers = failsafePeers ?? HTTPFailsafePeers(config: config)
        self.watchdogGuardsLease = watchdogGuardsLease
        self.walHistory = WALHistory(span: WALHistory.span(rpo: config.objectives.rpo))
        self.board = board
        self.metrics = metrics
        self.config = config
        self.region = region
        self.node = node
        self.coordinator = coordinator
        self.policy = FailoverPolicy(config)
        self.stateDir = stateDir
        self.log = log
        self.database = database ?? PostgresController(node: node, promotionTimeout: config.failover.promotionTimeout, healthTimeout: config.health.timeout)
        self.clock = clock
        self.dns = Result { try DNSSwitcher(config: config) }
    }

    var now: AgentInstant { clock.now }
    var fenceMarker: String { "\(stateDir)/\(node.name).fenced" }
    var leaseFile: String { FencingWatchdog.leaseFile(stateDir: stateDir, node: node.name) }

    /// Runs until the task is cancelled, then shuts down safely.
    public func run() async {
        await start()
        await loop()
    }

    /// The loops after `start()`, until the task is cancelled; then a safe shutdown.
    public func loop() async {
        while !Task.isCancelled {
            let tickStarted = clock.now
            await tick()
            let pause = pauseAfterTick(startedAt: tickStarted)
            if pause > .zero { await self.pause(pause) }
        }
        await shutdown()
    }

    /// How long to wait after the loop that started at `startedAt` (see `TickPacing`).
    public func pauseAfterTick(startedAt: AgentInstant) -> Duration {
        let renewalMissed = leaderLease.book.map { $0.lastConfirmedRenewalSentAt < startedAt } == true && !failsafe.leaseFromMembers
        return TickPacing.pause(interval: config.health.interval, elapsed: now - startedAt, renewalMissed: renewalMissed)
    }

    /// What the agent does before its first loop: look at its database, then take over the
    /// lease a predecessor on this host published (a restart is no failover). The database is
    /// looked at first so that a server that came back read-only (a reboot, init) is not
    /// handed to the watchdog under that lease: it would stop a read-only candidate.
    public func start() async {
        log.info("agent started", metadata: ["node": "\(node.name)", "region": "\(region.name)"])
        lastLocal = await observeLocal()
        loadFailsafeState()
        adoptPublishedLease()
        if let local = lastLocal { runStartHook(local) }
    }

    /// One loop: observe the database, renew the lease, read etcd (with what this node
    /// publishes), decide, act, keep the member lease.
    public func tick() async {
        applyReloadedConfig()
        let local = await observeLocal()
        lastLocal = local
        if local.state == .primary || local.state == .fenced, !work.promotion.isUnderway { work.promotion = .idle }
        await renewAheadOfTheRead(local)
        defer { leaderLease.renewedAheadOfTheRead = nil }
        let etcdReachable = await readCluster(local)
        var decisions = 0
        while decisions < 3 {
            decisions += 1
            let decision = decide(view(local, etcdReachable: etcdReachable), policy: policy, now: now)
            lastRule = decision.rule
            if !decision.actions.contains(where: { if case .holdForOperator = $0 { true } else { false } }) { lastHold = nil }
            let decideAgain = await execute(decision, local: local)
            if !decideAgain { break }
        }
        if etcdReachable { await keepMemberLease() }
        if let episode = endedFailsafeEpisode {
            do {
                try await coordinator.appendFailsafeEpisode(episode)
                endedFailsafeEpisode = nil
            } catch {
                log.warning("recording the failsafe episode in the history failed; tried again next loop", metadata: ["error": "\(error)"])
            }
        }
        report(local)
        runRoleChangeHook(local)
    }

    /// The snapshot `decide` sees: the local database and what this agent last knew.
    func view(_ observed: LocalDatabase, etcdReachable: Bool) -> ClusterView {
        var view = ClusterView(
            me: node.name, local: observed, etcdReachable: etcdReachable, leader: leader, members: members,
            primaryProgress: primaryProgress, lease: leaderLease.book, paused: paused, failoverIntent: intent,
            lastFailoverSeen: lastFailoverSeen, leaderMissingSince: leaderMissingSince, dns: dnsState)
        view.switchover = switchover
        view.synchronous = synchronous
        view.failsafe = failsafe.record
        view.failsafePromise = failsafe.promise
        view.recentMembers = recentMembers
        view.requests = requests
        view.work = work
        view.switchoverDue = switchover?.notBeforeMillis.map { clock.wallMillis >= $0 } ?? true
        return view
    }

    // MARK: observing

    var probeResult: ProbeResult?
    var paused = false
    var intent: FailoverIntent?
    var switchover: SwitchoverIntent?
    var synchronous: SynchronousRecord?
    /// The etcd revision of the last successful read (nil while etcd is unreachable).
    var lastRevision: Int64?
    /// When etcd last answered this agent's read, on the wall clock (Unix milliseconds).
    var etcdLastContactMillis: Int64?
    /// The last snapshot etcd answered with (the status page shows it, aged, during an outage).
    var lastSnapshot: CoordinationSnapshot?
    /// The synchronous standbys last seen configured, and the WAL position when they were
    /// first seen so: a standby holds every acknowledged commit once it flushed past it.
    var synchronousSince: (standbys: [String], lsn: LSN)?
    /// What operators asked of this node, as last read from etcd.
    var requests = NodeRequests()
    /// The last read showed a switchover handing over: the new term that follows is
    /// planned, not a failover, and starts no cooldown.
    var handoverUnderway = false

    // MARK: acting

    /// Carries out one decision. Returns true when the caller must decide again at once
    /// instead of a loop later: this agent just won the leader key, or a switchover's clean
    /// stop failed (the database is then fenced before the key goes).
    func execute(_ decision: Decision, local: LocalDatabase) async -> Bool {
        defer { finishDecision() }
        var failed = false
        for action in decision.actions {
            // After a failed step only messages go out: a fence that failed must not be
            // followed by a release, nor a failed promotion by a DNS switch.
            if failed, action.term != nil || { if case .fence = action { true } else { false } }() { continue }
            guard SafetyChecks.permits(action, leader: leader, me: node.name) else {
                log.warning("refused an action under a stale term", metadata: ["action": "\(action)", "rule": "\(decision.rule)"])
                continue
            }
            let marker = FenceMarkerPlan.of(action)
            if let write = marker.before { writeFenceMarker(write) }
            do {
                let decideAgain = try await perform(action, local: local)
                if marker.liftOnSuccess { try? FileManager.default.removeItem(atPath: fenceMarker) }
                if decideAgain { return true }
            } catch {
                if marker.liftOnFailure { try? FileManager.default.removeItem(atPath: fenceMarker) }
                failed = true
                log.error("action failed", metadata: ["action": "\(action)", "rule": "\(decision.rule)", "error": "\(error)"])
            }
        }
        return false
    }

    func writeFenceMarker(_ write: FenceMarkerPlan.Write) {
        switch write {
        case .replace(let why): _ = FileManager.default.createFile(atPath: fenceMarker, contents: Data(why.utf8))
        case .unlessPresent(let why):
            if !FileManager.default.fileExists(atPath: fenceMarker) { _ = FileManager.default.createFile(atPath: fenceMarker, contents: Data(why.utf8)) }
        }
    }

    /// The earliest failed check known here: this standby losing its upstream, or the old
    /// primary's own first failed check, placed on this clock from how long it had been
    /// failing when this agent read its record (late by at most one read's delay).
    func firstFailedCheck() -> AgentInstant? {
        var candidates = [health.upstreamLostSince].compactMap { $0 }
        if let failingFor = lastLeaderMember?.failingForMillis, let seenAt = lastLeaderMemberSeenAt {
            candidates.append(seenAt - .milliseconds(max(0, failingFor)))
        }
        return candidates.min()
    }

    /// Why this agent waits for an operator, if it does (as its last decision said).
    public var currentHold: Reason? { lastHold }

    func hold(_ reason: Reason) {
        if reason != lastHold {
            log.critical("waiting for an operator", metadata: ["reason": "\(reason)"])
            notifyHold(reason)
        }
        lastHold = reason
    }

    func recordEvidence(term: Int64, local: LocalDatabase) async throws {
        guard let recorder = evidence else { return }
        evidence = nil
        let lost = progressBeforePromotion ?? primaryProgress
        progressBeforePromotion = nil
        let loss = SafetyChecks.rpoGate(candidate: node.name, candidateLSN: local.lsn, primaryProgress: lost, rpo: config.objectives.rpo)
        let (bytes, seconds): (UInt64?, Double?) =
            switch loss {
            case let .within(b, s): (b, s)
            case let .beyond(b, s): (b, s)
            }
        let record = recorder.evidence(
            cluster: config.cluster, term: term, promoted: node.name, lostBytes: bytes, lostSeconds: seconds,
            reason: evidenceReason ?? "primary lost; \(node.name) promoted automatically")
        let data = try JSONEncoder.pretty.encode(record)
        try data.write(to: URL(fileURLWithPath: "\(stateDir)/failover-\(term).json"), options: .atomic)
        try await coordinator.appendHistory(record)
        // The leader promoting its own restarted database again is no failover or switchover.
        if record.previousPrimary != record.promoted {
            metrics.failover(record)
            notifyFailover(record)
        }
        log.notice("failover evidence recorded", metadata: ["rto_seconds": "\(record.rtoSeconds)", "data_lost_bytes": "\(bytes.map(String.init) ?? "unknown")"])
    }

    // MARK: stopping

    /// Stops every timer without a last decision, as a killed process's timers stop (tests
    /// use it to kill an agent; `run` never does).
    public func halt() {
        deadlineTimer?.cancel()
        promotionHeartbeat?.cancel()
        failsafe.nextRound?.cancel()
    }

    /// The last decision, made by `decide` like every other (rule `agent-stopping`).
    public func shutdown() async {
        deadlineTimer?.cancel()
        failsafe.nextRound?.cancel()
        if let lease = published.memberLease { try? await coordinator.revoke(lease: lease) }
        let local = lastLocal ?? LocalDatabase(state: .down, lsn: nil)
        var last = view(local, etcdReachable: true)
        last.shuttingDown = true
        last.watchdogGuardsLease = watchdogGuardsLease
        let decision = decide(last, policy: policy, now: now)
        _ = await execute(decision, local: local)
        // A last renewal re-arms the timer; the watchdog, not this exiting process, guards that deadline.
        deadlineTimer?.cancel()
        if watchdogGuardsLease, leaderLease.book != nil {
            log.notice("stopping with the lease left to the watchdog: a restart within the lease is no failover; if no agent renews, the watchdog fences at the deadline")
        }
        await runStopHook()
        log.notice("agent stopped", metadata: ["rule": "\(decision.rule)", "actions": "\(decision.actions.count)"])
    }
}

extension JSONEncoder {
    static var pretty: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        return encoder
    }
}
