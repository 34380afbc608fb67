/// What an agent publishes about its node (when something material changes: `PublicationSchedule`), under the member's own lease so a
/// dead agent's record disappears on its own.
public struct MemberRecord: Sendable, Equatable, Codable {
    public var name: String
    public var region: String
    public var role: NodeRole
    public var timeline: Int?
    /// Primary: current WAL position. Standby: last received position.
    public var lsn: LSN?
    public var replayLSN: LSN?
    public var lagBytes: UInt64?
    public var healthy: Bool
    /// Consecutive failed health checks of this node's database, as its agent counted them.
    public var failedChecks: Int
    /// Tagged `nofailover`: never promoted automatically.
    public var nofailover: Bool
    /// The region's priority: breaks ties between equally caught-up candidates.
    public var priority: Int
    /// Why this node's agent is waiting for an operator (e.g. beyond the RPO), if it is.
    public var hold: String? = nil
    /// Why the last rejoin (pg_rewind) or rebuild of this node failed, while it is still
    /// to be done: `drctl rejoin` reads it to offer a rebuild instead.
    public var rejoinFailure: String? = nil
    /// A standby build in flight on this node: how far it has come (`CloneProgress`).
    public var building: String? = nil
    /// The hash of the configuration file the node's agent runs (`LiveConfig.hash`):
    /// members that differ run different files.
    public var configHash: String? = nil
    /// Milliseconds since the epoch on the publishing agent's clock: for display only,
    /// never compared across machines (a record is written only when something material
    /// changed, so it may be hours old).
    public var publishedAtMillis: Int64
    /// How far this agent's wall clock is ahead of the leader agent's (behind when
    /// negative), in seconds, when that is more than `ClockOffset` tolerates; nil when it
    /// is within or unmeasured. Wall clocks decide nothing in a failover, but scheduled
    /// switchovers and the times in reports read them.
    public var clockOffsetSeconds: Int? = nil
    /// Wall-clock milliseconds of the first failed check of the current failure streak,
    /// nil while the checks pass: the start of a failover's evidence (for people; never
    /// used to decide anything).
    public var failingSinceMillis: Int64? = nil
    /// How long the checks had been failing when this record was published, on the
    /// publishing agent's monotonic clock: a reader places the first failed check on its
    /// own clock from when it first read this record (late by at most the read delay),
    /// never by comparing two machines' wall clocks.
    public var failingForMillis: Int64? = nil

    public init(
        name: String, region: String, role: NodeRole, timeline: Int?, lsn: LSN?, replayLSN: LSN?,
        lagBytes: UInt64?, healthy: Bool, failedChecks: Int, nofailover: Bool = false, priority: Int = 100, publishedAtMillis: Int64
    ) {
        self.name = name
        self.region = region
        self.role = role
        self.timeline = timeline
        self.lsn = lsn
        self.replayLSN = replayLSN
        self.lagBytes = lagBytes
        self.healthy = healthy
        self.failedChecks = failedChecks
        self.nofailover = nofailover
        self.priority = priority
        self.publishedAtMillis = publishedAtMillis
    }

    enum CodingKeys: String, CodingKey {
        case name, region, role, timeline, lsn, healthy
        case replayLSN = "replay_lsn", lagBytes = "lag_bytes", failedChecks = "failed_checks", hold, nofailover, priority, publishedAtMillis = "published_at_ms"
        case failingSinceMillis = "failing_since_ms", failingForMillis = "failing_for_ms"
        case rejoinFailure = "rejoin_failure", building, configHash = "config_hash", clockOffsetSeconds = "clock_offset_s"
    }
}

/// Who holds the leader key, and under which term.
public struct LeaderRecord: Sendable, Equatable {
    public var node: String
    /// The leader key's create revision in etcd: it changes with every new holder and
    /// never goes back, so it is the fencing token every action carries.
    public var term: Int64
    /// The lease the key is bound to; the key vanishes when the lease expires.
    public var lease: Int64

    public init(node: String, term: Int64, lease: Int64) {
        self.node = node
        self.term = term
        self.lease = lease
    }
}

/// What the primary's agent last published about its progress, kept in etcd *without* a
/// lease so that it outlives the primary: the reference for estimating data loss.
public struct PrimaryProgress: Sendable, Equatable, Codable {
    public var node: String
    public var timeline: Int
    public var lsn: LSN
    /// Per standby, its replication delay in seconds as the primary measured it
    /// (`pg_stat_replication.flush_lag`, zero when caught up): one clock, no skew.
    public var standbyLagSeconds: [String: Double]
    /// The record a new leader writes under its term *before* promoting: where its timeline
    /// will start. What it acknowledges after that is unknown until its first real progress,
    /// so nobody else's loss can be measured against it.
    public var startOfTerm: Bool
    /// The leader term it was published under (nil in earlier versions' records): a leader
    /// whose own progress carries its current term was primary under that term, and nobody
    /// else can have written since (see `leader-restores-own-primary`).
    public var term: Int64? = nil
    /// Per standby, the WAL position it has flushed as the primary last saw it
    /// (`pg_stat_replication.flush_lsn`): fresher than a standby's own record, which is
    /// written only when something material changes (`PublicationSchedule`).
    public var standbyLSN: [String: LSN] = [:]
    /// When it was published, in milliseconds since the epoch on the leader agent's clock:
    /// the reference other agents compare their clocks with (`ClockOffset`). Not part of
    /// what makes a progress due (`PublicationSchedule.progressDue`).
    public var publishedAtMillis: Int64? = nil

    public init(node: String, timeline: Int, lsn: LSN, standbyLagSeconds: [String: Double], startOfTerm: Bool = false) {
        self.node = node
        self.timeline = timeline
        self.lsn = lsn
        self.standbyLagSeconds = standbyLagSeconds
        self.startOfTerm = startOfTerm
    }

    enum CodingKeys: String, CodingKey {
        case node, timeline, lsn, term, standbyLagSeconds = "standby_lag_seconds", startOfTerm = "start_of_term"
        case standbyLSN = "standby_lsn", publishedAtMillis = "published_at_ms"
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        node = try c.decode(String.self, forKey: .node)
        timeline = try c.decode(Int.self, forKey: .timeline)
        lsn = try c.decode(LSN.self, forKey: .lsn)
        standbyLagSeconds = try c.decode([String: Double].self, forKey: .standbyLagSeconds)
        // Absent in records of earlier versions, which never write one before promoting.
        startOfTerm = try c.decodeIfPresent(Bool.self, forKey: .startOfTerm) ?? false
        term = try c.decodeIfPresent(Int64.self, forKey: .term)
        standbyLSN = try c.decodeIfPresent([String: LSN].self, forKey: .standbyLSN) ?? [:]
        publishedAtMillis = try c.decodeIfPresent(Int64.self, forKey: .publishedAtMillis)
    }
}
