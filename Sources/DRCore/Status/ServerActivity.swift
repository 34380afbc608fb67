/// What a health check reads besides the role: facts an operator graphs and Patroni users
/// expect in the health endpoints' bodies and in the metrics. Nothing here feeds a
/// failover decision.
public struct ServerActivity: Sendable, Equatable {
    /// Some setting changed in the configuration files waits for a restart
    /// (`pg_settings.pending_restart`).
    public var pendingRestart: Bool
    /// When the postmaster started (Unix milliseconds): a restart shows as a jump.
    public var postmasterStartMillis: Int64?
    /// `pg_stat_archiver`: segments archived and archive attempts that failed since the
    /// statistics were last reset, and when the last of each happened (Unix milliseconds).
    public var archivedCount: Int64
    public var archiveFailedCount: Int64
    public var lastArchivedMillis: Int64?
    public var lastArchiveFailedMillis: Int64?

    public init(
        pendingRestart: Bool = false, postmasterStartMillis: Int64? = nil, archivedCount: Int64 = 0, archiveFailedCount: Int64 = 0,
        lastArchivedMillis: Int64? = nil, lastArchiveFailedMillis: Int64? = nil
    ) {
        self.pendingRestart = pendingRestart
        self.postmasterStartMillis = postmasterStartMillis
        self.archivedCount = archivedCount
        self.archiveFailedCount = archiveFailedCount
        self.lastArchivedMillis = lastArchivedMillis
        self.lastArchiveFailedMillis = lastArchiveFailedMillis
    }

    /// Select-list columns, readable by any role (`pg_settings` and `pg_stat_archiver` need
    /// no privilege): `pending_restart`, `started_ms`, `archived_count`, `failed_count`,
    /// `last_archived_ms`, `last_failed_ms`.
    public static let columns = """
        EXISTS (SELECT 1 FROM pg_settings WHERE pending_restart) AS pending_restart, \
        (extract(epoch FROM pg_postmaster_start_time()) * 1000)::int8 AS started_ms, \
        (SELECT archived_count FROM pg_stat_archiver) AS archived_count, (SELECT failed_count FROM pg_stat_archiver) AS failed_count, \
        (SELECT (extract(epoch FROM last_archived_time) * 1000)::int8 FROM pg_stat_archiver) AS last_archived_ms, \
        (SELECT (extract(epoch FROM last_failed_time) * 1000)::int8 FROM pg_stat_archiver) AS last_failed_ms
        """
}
