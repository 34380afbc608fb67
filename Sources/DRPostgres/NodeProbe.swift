import DRCore

/// Reads a node's role and replication state with a handful of catalog queries and returns
/// it as a `NodeObservation` for DRCore to judge.
///
/// Works with any role that can read `pg_stat_replication` fully (superuser or
/// `pg_monitor`); without it PostgreSQL hides the LSN columns and they come back NULL.
public struct NodeProbe: Sendable {
    public var connectTimeout: Duration
    public var statementTimeout: Duration

    public init(connectTimeout: Duration = .seconds(2), statementTimeout: Duration = .seconds(2)) {
        self.connectTimeout = connectTimeout
        self.statementTimeout = statementTimeout
    }

    /// Probes one node; never throws: failures become `.unreachable` or `.failed`.
    public func observe(node: String, conninfo: String) async -> NodeObservation {
        let connection: PGConnection
        do {
            connection = try await PGConnection.connect(
                node: node, conninfo: conninfo, connectTimeout: connectTimeout,
                statementTimeout: statementTimeout, applicationName: "drctl-probe")
        } catch let error as PGError {
            return NodeObservation(node: node, result: .unreachable(reason: error.message))
        } catch {
            return NodeObservation(node: node, result: .unreachable(reason: "\(error)"))
        }
        let result: ProbeResult
        do {
            result = try await probe(connection)
        } catch let error as PGError {
            result = .failed(reason: error.description)
        } catch {
            result = .failed(reason: "\(error)")
        }
        await connection.close()
        return NodeObservation(node: node, result: result)
    }

    /// Probes every node of the configuration at once; the slowest node bounds the time.
    public func observeAll(_ config: ClusterConfig) async -> [NodeObservation] {
        await withTaskGroup(of: NodeObservation.self) { group in
            for (_, node) in config.nodes {
                group.addTask { await observe(node: node.name, conninfo: node.conninfo) }
            }
            var results: [NodeObservation] = []
            for await observation in group { results.append(observation) }
            return results
        }
    }

    func probe(_ connection: PGConnection) async throws -> ProbeResult {
        // The server's activity rides in the first query: no extra round trip per check.
        let basics = try await connection.query(
            "SELECT pg_is_in_recovery() AS in_recovery, current_setting('server_version_num')::int AS version, \(ServerActivity.columns)"
        ).single()
        let version = try basics.int("version")
        let slots = try await readSlots(connection)
        let activity = try Self.activity(basics)
        if try basics.bool("in_recovery") {
            var state = try await readStandby(connection, version: version, slots: slots)
            state.activity = activity
            return .standby(state)
        }
        var state = try await readPrimary(connection, version: version, slots: slots)
        state.activity = activity
        return .primary(state)
    }

    static func activity(_ row: PGRow) throws(PGError) -> ServerActivity {
        return ServerActivity(
            pendingRestart: try row.bool("pending_restart"), postmasterStartMillis: try row.optionalInt("started_ms").map(Int64.init),
            archivedCount: try row.optionalInt("archived_count").map(Int64.init) ?? 0, archiveFailedCount: try row.optionalInt("failed_count").map(Int64.init) ?? 0,
            lastArchivedMillis: try row.optionalInt("last_archived_ms").map(Int64.init), lastArchiveFailedMillis: try row.optionalInt("last_failed_ms").map(Int64.init))
    }

    private func readPrimary(_ connection: PGConnection, version: Int, slots: [ReplicationSlot]) async throws -> PrimaryState {
        // The timeline of the WAL being written is the first 8 hex digits of its file name;
        // pg_control_checkpoint() would lag behind a promotion until the next checkpoint.
        let position = try await connection.query(
            """
            SELECT pg_current_wal_lsn()::text AS lsn,
                   ('x' || substr(pg_walfile_name(pg_current_wal_lsn()), 1, 8))::bit(32)::int AS timeline,
                   current_setting('synchronous_standby_names') AS sync_names,
                   (\(PrimaryState.forcedPromotionQuery)) AS forced,
                   (\(PrimaryState.asynchronousCommitsQuery)) AS asynchronous_commits
            """
        ).single()
        let replication = try await connection.query(
            """
            SELECT application_name, client_addr::text AS client_addr, state, sync_state,
                   sent_lsn::text AS sent_lsn, write_lsn::text AS write_lsn,
                   flush_lsn::text AS flush_lsn, replay_lsn::text AS replay_lsn,
                   extract(epoch FROM write_lag)::float8 AS write_lag,
                   extract(epoch FROM flush_lag)::float8 AS flush_lag,
                   extract(epoch FROM replay_lag)::float8 AS replay_lag,
                   CASE WHEN flush_lsn >= pg_current_wal_lsn() THEN 0
                        ELSE extract(epoch FROM flush_lag)::float8 END AS seconds_behind
            FROM pg_stat_replication ORDER BY application_name
            """)
        var state = PrimaryState(
            serverVersion: version, timeline: try position.int("timeline"), currentLSN: try position.lsn("lsn"),
            replication: try replication.rows.map { row throws(PGError) in
                var connection = ReplicationConnection(
                    applicationName: try row.optionalString("application_name") ?? "",
                    clientAddress: try row.optionalString("client_addr"),
                    state: try row.optionalString("state") ?? "unknown",
                    syncState: try row.optionalString("sync_state") ?? "unknown",
                    sentLSN: try row.optionalLSN("sent_lsn"), writeLSN: try row.optionalLSN("write_lsn"),
                    flushLSN: try row.optionalLSN("flush_lsn"), replayLSN: try row.optionalLSN("replay_lsn"),
                    writeLag: try row.optionalDouble("write_lag"), flushLag: try row.optionalDouble("flush_lag"),
                    replayLag: try row.optionalDouble("replay_lag"))
                connection.secondsBehind = try row.optionalDouble("seconds_behind")
                return connection
            },
            slots: slots)
        state.synchronousStandbyNames = try position.string("sync_names")
        state.forcedPromotion = try position.optionalString("forced").flatMap { $0.isEmpty ? nil : $0 }
        state.asynchronousCommits = try position.string("asynchronous_commits").split(separator: ",").map(String.init)
        return state
    }

    /// A standby's timeline when its WAL receiver is down (its upstream lost): the timeline
    /// of the WAL segment holding the replay position, from the file names in pg_wal. The
    /// checkpoint's timeline is no answer: it stays on the old timeline until the first
    /// restartpoint after following a promotion, and a standby that lost its new upstream
    /// before then would look diverged and never be a candidate. Nil without the right to
    /// list pg_wal (superuser or pg_monitor).
    static let replayedSegmentTimeline = """
        CASE WHEN has_function_privilege('pg_ls_waldir()', 'EXECUTE') THEN (
            SELECT max(('x' || substr(w.name, 1, 8))::bit(32)::int) FROM pg_ls_waldir() AS w
            WHERE length(w.name) = 24 AND substr(w.name, 9) = (
                SELECT upper(lpad(to_hex(div(x.seg, x.per)::bigint), 8, '0') || lpad(to_hex(mod(x.seg, x.per)::bigint), 8, '0'))
                FROM (SELECT floor(pg_wal_lsn_diff(pg_last_wal_replay_lsn(), '0/0') / s.size) AS seg, 4294967296 / s.size AS per
                      FROM (SELECT setting::numeric AS size FROM pg_settings WHERE name = 'wal_segment_size') AS s) AS x))
        END
        """

    private func readStandby(_ connection: PGConnection, version: Int, slots: [ReplicationSlot]) async throws -> StandbyState {
        let row = try await connection.query(
            """
            SELECT pg_last_wal_receive_lsn()::text AS receive_lsn,
                   pg_last_wal_replay_lsn()::text AS replay_lsn,
                   extract(epoch FROM now() - pg_last_xact_replay_timestamp())::float8 AS since_replay,
                   (extract(epoch FROM pg_last_xact_replay_timestamp()) * 1000)::int8 AS replayed_commit_ms,
                   pg_is_wal_replay_paused() AS paused,
                   coalesce(r.received_tli, \(Self.replayedSegmentTimeline), (pg_control_checkpoint()).timeline_id)::int AS timeline,
                   r.status, r.sender_host, r.sender_port,
                   current_setting('primary_conninfo', true) AS primary_conninfo
            FROM (SELECT 1) AS one
            LEFT JOIN pg_stat_wal_receiver AS r ON true
            """
        ).single()
        var state = StandbyState(
            serverVersion: version, timeline: try row.optionalInt("timeline"),
            receiveLSN: try row.optionalLSN("receive_lsn"), replayLSN: try row.optionalLSN("replay_lsn"),
            secondsSinceLastReplay: try row.optionalDouble("since_replay"),
            walReceiverStatus: try row.optionalString("status"),
            upstreamHost: try row.optionalString("sender_host"), upstreamPort: try row.optionalInt("sender_port"),
            replayPaused: try row.bool("paused"), slots: slots)
        state.primaryConninfo = try row.optionalString("primary_conninfo")
        state.lastReplayedCommitMillis = try row.optionalInt("replayed_commit_ms").map(Int64.init)
        return state
    }

    private func readSlots(_ connection: PGConnection) async throws -> [ReplicationSlot] {
        let result = try await connection.query(
            """
            SELECT slot_name, slot_type, active, restart_lsn::text AS restart_lsn, wal_status
            FROM pg_replication_slots ORDER BY slot_name
            """)
        return try result.rows.map { row throws(PGError) in
            ReplicationSlot(
                name: try row.string("slot_name"), type: try row.string("slot_type"), active: try row.bool("active"),
                restartLSN: try row.optionalLSN("restart_lsn"), walStatus: try row.optionalString("wal_status"))
        }
    }
}
