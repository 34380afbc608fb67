/// What one probe of one node saw, as plain values: the input of every status and failover
/// decision. Probes (in DRPostgres) produce these; DRCore never talks to a database.
public struct NodeObservation: Sendable, Equatable {
    public var node: String
    public var result: ProbeResult

    public init(node: String, result: ProbeResult) {
        self.node = node
        self.result = result
    }
}

public enum ProbeResult: Sendable, Equatable {
    /// No connection could be made (refused, timed out, authentication failed).
    case unreachable(reason: String)
    /// Connected, but the probe's queries failed, so the role is unknown.
    case failed(reason: String)
    case primary(PrimaryState)
    case standby(StandbyState)

    /// What the server reports besides its role; nil when it did not answer.
    public var activity: ServerActivity? {
        switch self {
        case .primary(let state): state.activity
        case .standby(let state): state.activity
        case .unreachable, .failed: nil
        }
    }

    /// `server_version_num`; nil when the server did not answer.
    public var serverVersion: Int? {
        switch self {
        case .primary(let state): state.serverVersion
        case .standby(let state): state.serverVersion
        case .unreachable, .failed: nil
        }
    }
}

/// A node that is not in recovery: it accepts writes.
public struct PrimaryState: Sendable, Equatable {
    public var serverVersion: Int
    public var timeline: Int
    public var currentLSN: LSN
    public var replication: [ReplicationConnection]
    public var slots: [ReplicationSlot]
    /// `synchronous_standby_names` as set.
    public var synchronousStandbyNames: String = ""
    /// Where commits do not wait for a synchronous standby (`synchronous_commit` local or
    /// off): "server", "database NAME", "role NAME", "every role". Empty: nowhere.
    public var asynchronousCommits: [String] = []
    /// Lists, comma-separated, where `synchronous_commit` is `local` or `off`: the setting
    /// this session sees ("server"), then every database and role that sets it so
    /// (`pg_db_role_setting`, readable by any user).
    public static let asynchronousCommitsQuery = """
        SELECT concat_ws(',', CASE WHEN current_setting('synchronous_commit') IN ('local', 'off') THEN 'server' END, \
        (SELECT string_agg(coalesce(nullif(concat_ws(' ', 'database ' || d.datname, 'role ' || r.rolname), ''), 'every role'), ',') \
        FROM pg_db_role_setting s LEFT JOIN pg_database d ON d.oid = s.setdatabase LEFT JOIN pg_roles r ON r.oid = s.setrole, \
        unnest(s.setconfig) AS c WHERE c IN ('synchronous_commit=local', 'synchronous_commit=off')))
        """
    /// Set by `drctl promote --force` (who, when, why) until the node's agent leads:
    /// the agents must not fence a primary an operator promoted while etcd was gone.
    public var forcedPromotion: String? = nil
    /// Pending restart, start time and archiver counters (no decision reads them).
    public var activity = ServerActivity()
    /// The custom setting that carries `forcedPromotion`, set with ALTER SYSTEM.
    public static let forcedPromotionSetting = "drctl.forced_promotion"
    /// Reads the marker only as the server's configuration files set it, which only a
    /// superuser can change (ALTER SYSTEM, postgresql.conf): a custom setting is also
    /// settable per database or role by their owners, and the marker exempts a node from
    /// fencing. While any database or role sets it (`pg_db_role_setting`, readable by every
    /// user, unlike `pg_file_settings`), the marker is not trusted at all: the node is then
    /// fenced like any other, the safe side.
    public static let forcedPromotionQuery = """
        SELECT CASE WHEN EXISTS (SELECT 1 FROM pg_db_role_setting, unnest(setconfig) AS c WHERE c LIKE 'drctl.forced\\_promotion=%') \
        THEN NULL ELSE current_setting('\(forcedPromotionSetting)', true) END
        """

    public init(serverVersion: Int, timeline: Int, currentLSN: LSN, replication: [ReplicationConnection], slots: [ReplicationSlot]) {
        self.serverVersion = serverVersion
        self.timeline = timeline
        self.currentLSN = currentLSN
        self.replication = replication
        self.slots = slots
    }
}

/// A node in recovery, with its own view of replication.
public struct StandbyState: Sendable, Equatable {
    public var serverVersion: Int
    public var timeline: Int?
    /// Last WAL position received and flushed by the WAL receiver; nil before any arrived.
    public var receiveLSN: LSN?
    public var replayLSN: LSN?
    /// Seconds since the last replayed transaction's commit, on the standby's clock
    /// (`now() - pg_last_xact_replay_timestamp()`), nil before any was replayed.
    public var secondsSinceLastReplay: Double?
    /// `pg_stat_wal_receiver.status` (`streaming`, `catchup`, …), nil without a receiver.
    public var walReceiverStatus: String?
    public var upstreamHost: String?
    public var upstreamPort: Int?
    /// The configured `primary_conninfo`: where the standby streams from, or tries to,
    /// even while disconnected.
    public var primaryConninfo: String? = nil
    public var replayPaused: Bool
    public var slots: [ReplicationSlot]
    /// Pending restart, start time and archiver counters (no decision reads them).
    public var activity = ServerActivity()

    public init(
        serverVersion: Int, timeline: Int?, receiveLSN: LSN?, replayLSN: LSN?, secondsSinceLastReplay: Double?,
        walReceiverStatus: String?, upstreamHost: String?, upstreamPort: Int?, replayPaused: Bool, slots: [ReplicationSlot]
    ) {
        self.serverVersion = serverVersion
        self.timeline = timeline
        self.receiveLSN = receiveLSN
        self.replayLSN = replayLSN
        self.secondsSinceLastReplay = secondsSinceLastReplay
        self.walReceiverStatus = walReceiverStatus
        self.upstreamHost = upstreamHost
        self.upstreamPort = upstreamPort
        self.replayPaused = replayPaused
        self.slots = slots
    }

    /// When the last replayed transaction committed, on the primary's clock (Unix
    /// milliseconds), nil before any was replayed.
    public var lastReplayedCommitMillis: Int64? = nil

    /// The furthest WAL position this standby holds, received or replayed.
    public var bestLSN: LSN? { [receiveLSN, replayLSN].compactMap { $0 }.max() }
}

/// One row of `pg_stat_replication` on a primary: a connected standby as the primary sees it.
public struct ReplicationConnection: Sendable, Equatable, Codable {
    public var applicationName: String
    public var clientAddress: String?
    public var state: String
    public var syncState: String
    public var sentLSN: LSN?
    public var writeLSN: LSN?
    public var flushLSN: LSN?
    public var replayLSN: LSN?
    /// Seconds; PostgreSQL reports NULL when the standby has been idle and caught up.
    public var writeLag: Double?
    public var flushLag: Double?
    public var replayLag: Double?
    /// Zero when caught up, else `flush_lag` (the primary's clock): for display. It stops
    /// growing when the standby stops answering, so the agent's RPO gate uses its own
    /// `WALHistory` instead (`reply_time`, the standby's clock, is used by neither).
    public var secondsBehind: Double? = nil

    public init(
        applicationName: String, clientAddress: String?, state: String, syncState: String, sentLSN: LSN?, writeLSN: LSN?,
        flushLSN: LSN?, replayLSN: LSN?, writeLag: Double?, flushLag: Double?, replayLag: Double?
    ) {
        self.applicationName = applicationName
        self.clientAddress = clientAddress
        self.state = state
        self.syncState = syncState
        self.sentLSN = sentLSN
        self.writeLSN = writeLSN
        self.flushLSN = flushLSN
        self.replayLSN = replayLSN
        self.writeLag = writeLag
        self.flushLag = flushLag
        self.replayLag = replayLag
    }

    enum CodingKeys: String, CodingKey {
        case applicationName = "application_name", clientAddress = "client_address", state, syncState = "sync_state"
        case sentLSN = "sent_lsn", writeLSN = "write_lsn", flushLSN = "flush_lsn", replayLSN = "replay_lsn"
        case writeLag = "write_lag", flushLag = "flush_lag", replayLag = "replay_lag", secondsBehind = "seconds_behind"
    }
}

/// One row of `pg_replication_slots`.
public struct ReplicationSlot: Sendable, Equatable, Codable {
    public var name: String
    public var type: String
    public var active: Bool
    public var restartLSN: LSN?
    /// `reserved`, `extended`, `unreserved` or `lost` (PostgreSQL 13+).
    public var walStatus: String?

    public init(name: String, type: String, active: Bool, restartLSN: LSN?, walStatus: String?) {
        self.name = name
        self.type = type
        self.active = active
        self.restartLSN = restartLSN
        self.walStatus = walStatus
    }

    enum CodingKeys: String, CodingKey {
        case name, type, active, restartLSN = "restart_lsn", walStatus = "wal_status"
    }
}
