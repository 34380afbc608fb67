/// Everything one agent knows at one tick, gathered before deciding: its own database,
/// what etcd said (or that etcd did not answer), and its own bookkeeping. Immutable: the
/// agent builds a new one every loop and hands it to `decide`.
public struct ClusterView: Sendable, Equatable {
    /// The node this agent runs beside.
    public var me: String
    public var local: LocalDatabase
    /// False when no etcd endpoint answered this tick; then `leader` and `members` are the
    /// last values seen and must not be trusted for promotion.
    public var etcdReachable: Bool
    public var leader: LeaderRecord?
    /// Records published by live agents (each bound to its agent's lease).
    public var members: [MemberRecord]
    /// The primary's last published progress (it survives the primary).
    public var primaryProgress: PrimaryProgress?
    /// This agent's leadership bookkeeping, when it holds or held the leader key.
    public var lease: LeaseBookkeeping?
    public var paused: Bool
    /// An operator's `drctl failover` intent, if any.
    public var failoverIntent: FailoverIntent?
    /// When this agent last saw the cluster fail over (a new leader term): cooldown.
    public var lastFailoverSeen: AgentInstant?
    /// When this agent first saw the leader key missing, for the bounded wait on a
    /// better candidate; nil while a leader exists.
    public var leaderMissingSince: AgentInstant?
    /// The agent is stopping (SIGTERM): this is its last decision.
    public var shuttingDown = false
    /// A watchdog process outlives this agent and fences at the published lease deadline
    /// unless a restarted agent renews first: a stopping leader may leave its database
    /// running (a restart is not a failover).
    public var watchdogGuardsLease = false
    /// The leader's own record of each managed DNS record it pointed somewhere, by name.
    public var dns: [String: DNSRecordState] = [:]
    /// An operator's planned switchover, if any.
    public var switchover: SwitchoverIntent?
    /// Its `--at` time has come (the agent compares wall clocks; `decide` stays pure).
    public var switchoverDue = true
    /// The `sync` key: which standby the leader that wrote it kept synchronous.
    public var synchronous: SynchronousRecord?
    /// The `failsafe` key as last read (kept while etcd is unreachable, and across a restart).
    public var failsafe: FailsafeRecord?
    /// This node's promise to a leader running without etcd, if one holds.
    public var failsafePromise: FailsafePromise?
    /// Members whose agents were live within a grace period (a restarting agent stays
    /// listed): who the leader lists in the `failsafe` key.
    public var recentMembers: [String] = []
    /// What operators asked of this node (`drctl rejoin`, `reinit`, `restart`, a drill's crash).
    public var requests = NodeRequests()
    /// This agent's own work on its database: fences, promotions, failed attempts.
    public var work = LocalWork()

    public init(
        me: String, local: LocalDatabase, etcdReachable: Bool, leader: LeaderRecord?, members: [MemberRecord],
        primaryProgress: PrimaryProgress?, lease: LeaseBookkeeping? = nil, paused: Bool = false, failoverIntent: FailoverIntent? = nil,
        lastFailoverSeen: AgentInstant? = nil, leaderMissingSince: AgentInstant? = nil, dns: [String: DNSRecordState] = [:]
    ) {
        self.me = me
        self.local = local
        self.etcdReachable = etcdReachable
        self.leader = leader
        self.members = members
        self.primaryProgress = primaryProgress
        self.lease = lease
        self.paused = paused
        self.failoverIntent = failoverIntent
        self.lastFailoverSeen = lastFailoverSeen
        self.leaderMissingSince = leaderMissingSince
        self.dns = dns
    }

    /// True when the leader key names this agent's node.
    public var iAmLeader: Bool { leader?.node == me }
}

/// What the leader's agent last did with one managed DNS record.
public struct DNSRecordState: Sendable, Equatable {
    public enum Phase: Sendable, Equatable {
        /// A switch is running (provider calls and verification take seconds).
        case inFlight
        /// The provider served the record pointing at `node`, verified at this instant;
        /// re-read (and repaired if it drifted) after `FailoverPolicy.dnsRecheck`.
        case synced(at: AgentInstant)
        /// The last switch failed at this instant; retried after `FailoverPolicy.dnsRetry`.
        case failed(at: AgentInstant)
    }

    public var node: String
    public var term: Int64
    public var phase: Phase

    public init(node: String, term: Int64, phase: Phase) {
        self.node = node
        self.term = term
        self.phase = phase
    }
}

/// This agent's own database as its probe and health checks saw it.
public struct LocalDatabase: Sendable, Equatable {
    public enum State: String, Sendable, Equatable {
        /// Accepting writes.
        case primary
        /// In recovery, streaming or trying to.
        case standby
        /// Stopped by this agent so that it cannot accept writes.
        case fenced
        /// Not answering (crashed, stopped by someone else).
        case down
    }

    public var state: State
    /// Consecutive failed health checks; zero after any success.
    public var failedChecks: Int
    public var timeline: Int?
    /// Primary: current LSN. Standby: last received LSN.
    public var lsn: LSN?
    /// Standby: the node its `primary_conninfo` points at (by name), whether or not it is
    /// connected right now; nil when it points at no configured node.
    public var streamingFrom: String?
    /// Standby: since when its WAL receiver has not been streaming (nil while it streams).
    public var upstreamLostSince: AgentInstant? = nil
    public var tags: Set<NodeTag>
    /// Primary: the standbys named in `synchronous_standby_names`, sorted.
    public var synchronousStandbys: [String] = []
    /// Primary: those of them PostgreSQL counts as synchronous and that have flushed past
    /// the WAL position at which they were first seen configured — they hold every commit
    /// acknowledged so far.
    public var synchronousConfirmed: [String] = []
    /// Some commits do not wait for a synchronous standby (`synchronous_commit` local or off
    /// for the server, a database or a role): no standby can be recorded as holding them all.
    public var commitsSkipSynchronous = false
    /// Primary: its data directory carries `standby.signal` (the restart guard), or there is
    /// no data directory to look at. Nothing is guarded for other states.
    public var restartGuarded = true
    /// Primary: its replication slots.
    public var slots: [ReplicationSlot] = []
    /// The failed check found no postmaster process at all (crashed or killed), not merely
    /// a slow or refusing server: certain, so it needs no repeated checks to be believed.
    public var postmasterGone: Bool = false
    /// Stopped cleanly to hand over in a switchover: it rejoins as a standby by itself.
    public var fencedForSwitchover = false
    /// The data directory holds no database (a lost or replaced disk, a new node): it is
    /// built as a standby of the leader.
    public var dataDirectoryEmpty = false
    /// A standby in targeted archive recovery (`recovery.signal`: a restore such as `region
    /// activate` replaying the archive): it promotes itself at the archive's end, and an
    /// earlier promotion would cut the replay short. Never a candidate.
    public var archiveRecovery = false
    /// An operator promoted this primary with `drctl promote --force` (etcd was gone).
    public var forcedPromotion = false
    /// A changed setting waits for a restart (`pg_settings.pending_restart`).
    public var pendingRestart = false

    public init(
        state: State, failedChecks: Int = 0, timeline: Int? = 1, lsn: LSN?, streamingFrom: String? = nil,
        tags: Set<NodeTag> = []
    ) {
        self.state = state
        self.failedChecks = failedChecks
        self.timeline = timeline
        self.lsn = lsn
        self.streamingFrom = streamingFrom
        self.tags = tags
    }
}

/// Why an automatic rejoin failed, and under which leader term: a rejoin rewrites the data
/// directory, so a failure waits for an operator (or a new leader) instead of looping.
public struct RejoinFailure: Sendable, Equatable {
    public var term: Int64
    public var message: String
    /// When it failed (the agent's clock): a rejoin is tried again `FailoverPolicy.rejoinRetry`
    /// later, since the cause is often passing (the leader restarting while it was tried).
    public var at: AgentInstant?

    public init(term: Int64, message: String, at: AgentInstant? = nil) {
        self.term = term
        self.message = message
        self.at = at
    }
}

/// When this agent last *sent* a lease renewal that etcd then confirmed. Measured at
/// send time, so the local deadline is never later than etcd's own expiry.
public struct LeaseBookkeeping: Sendable, Equatable {
    public var term: Int64
    public var ttl: Duration
    public var lastConfirmedRenewalSentAt: AgentInstant

    public init(term: Int64, ttl: Duration, lastConfirmedRenewalSentAt: AgentInstant) {
        self.term = term
        self.ttl = ttl
        self.lastConfirmedRenewalSentAt = lastConfirmedRenewalSentAt
    }
}

public struct FailoverIntent: Sendable, Equatable, Codable {
    /// The node to promote; nil lets drctl choose the best candidate.
    public var to: String?
    /// Promote even beyond the RPO: the operator accepted the data loss.
    public var acceptDataLoss: Bool

    public init(to: String?, acceptDataLoss: Bool) {
        self.to = to
        self.acceptDataLoss = acceptDataLoss
    }

    enum CodingKeys: String, CodingKey { case to, acceptDataLoss = "accept_data_loss" }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        to = try container.decodeIfPresent(String.self, forKey: .to)
        // Absent means not accepted: drctl never assumes a loss was accepted.
        acceptDataLoss = try container.decodeIfPresent(Bool.self, forKey: .acceptDataLoss) ?? false
    }
}

/// The knobs of `decide`, from the configuration.
public struct FailoverPolicy: Sendable, Equatable {
    public var failuresInARow: Int
    public var rpo: Duration
    public var cooldown: Duration
    /// Fence this long before the lease could expire in etcd, to cover clock drift and
    /// the time fencing itself takes.
    public var fencingMargin: Duration
    /// How long a candidate waits for a better-placed one before going itself.
    public var betterCandidateWait: Duration
    public var autoRejoin: Bool
    /// The leader keeps one healthy standby synchronous and records it in etcd; only a
    /// recorded one is promoted without an operator.
    public var synchronous: Bool = false
    /// Synchronous and no healthy standby: commits wait (writes block) rather than the
    /// primary running asynchronously.
    public var synchronousStrict: Bool = false
    /// Restarts of a crashed leader database allowed before the failure threshold.
    public var restartAttempts: Int = 0
    /// The managed DNS records (name and what each points to), switched by the leader.
    public var dnsRecords: [DNSBinding] = []
    /// How long after a failed automatic rejoin it is tried again under the same term.
    public var rejoinRetry: Duration = .seconds(30)
    /// How long after a failed DNS switch the leader tries again.
    public var dnsRetry: Duration = .seconds(30)
    /// How long a verified record is trusted before the leader reads it again.
    public var dnsRecheck: Duration = .seconds(60)
    /// How long the switchover target may take to take over before the ordinary rules
    /// (and an ordinary failover) apply again.
    public var switchoverTimeout: Duration = .seconds(30)
    /// `failover.failsafe`: without etcd, the leader stays writable while every member of
    /// the `failsafe` key confirms it.
    public var failsafe: Bool = false
    /// The nodes whose replication slots the leader keeps (every node outside cold regions).
    public var slotNodes: [String] = []
    /// `replica.ignore_slots`: slots the leader never drops.
    public var ignoredSlots: Set<String> = []

    public init(
        failuresInARow: Int = 3, rpo: Duration, cooldown: Duration = .seconds(300), fencingMargin: Duration = .seconds(1),
        betterCandidateWait: Duration = .seconds(3), autoRejoin: Bool = false
    ) {
        self.failuresInARow = failuresInARow
        self.rpo = rpo
        self.cooldown = cooldown
        self.fencingMargin = fencingMargin
        self.betterCandidateWait = betterCandidateWait
        self.autoRejoin = autoRejoin
    }

    public init(_ config: ClusterConfig) {
        self.init(
            failuresInARow: config.health.failures, rpo: config.objectives.rpo, cooldown: config.failover.cooldown,
            fencingMargin: max(config.health.interval, .milliseconds(250)), autoRejoin: config.failover.autoRejoin)
        synchronous = config.failover.synchronous
        synchronousStrict = config.failover.synchronousStrict
        restartAttempts = config.failover.restartAttempts
        failsafe = config.failover.failsafe
        dnsRecords = config.dns.records.map { DNSBinding(record: $0.name, target: $0.target) }
        dnsRecheck = config.dns.recheckInterval
        slotNodes = config.nodes.filter { $0.region.role != .cold }.map(\.node.name)
        ignoredSlots = Set(config.replica.ignoreSlots)
    }
}

/// A managed DNS record as `decide` sees it: its name and what it points to.
public struct DNSBinding: Sendable, Equatable {
    public var record: String
    public var target: RecordTarget

    public init(record: String, target: RecordTarget) {
        self.record = record
        self.target = target
    }
}
