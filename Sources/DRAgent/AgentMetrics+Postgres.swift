import DRCore

/// The gauges Patroni users graph (`patroni_postgres_timeline`, `patroni_xlog_*`,
/// `patroni_is_paused`, `patroni_pending_restart`, `patroni_dcs_last_seen`) under drctl's
/// names, plus `pg_stat_archiver`'s counters.
extension AgentMetrics {
    /// What the node's last health check read. Positions that do not apply to the node's
    /// role, or that a check without an answer could not read, are 0, as Patroni reports them.
    func postgres(_ node: String, _ probe: ProbeResult?, clusterPaused: Bool) {
        var current: LSN?, received: LSN?, replayed: LSN?, timeline: Int?, replayPaused = false
        switch probe {
        case .primary(let state):
            current = state.currentLSN
            timeline = state.timeline
        case .standby(let state):
            (received, replayed, timeline, replayPaused) = (state.receiveLSN, state.replayLSN, state.timeline, state.replayPaused)
        case .unreachable, .failed, nil: break
        }
        let labels = [("node", node)]
        gauge("postgres_timeline", labels, "Timeline of the node's database (0 when unknown)").set(Double(timeline ?? 0))
        gauge("postgres_wal_current_lsn_bytes", labels, "A primary's WAL write position (pg_current_wal_lsn), 0 on a standby")
            .set(Double(current?.value ?? 0))
        gauge("postgres_wal_received_lsn_bytes", labels, "A standby's last WAL position received and flushed, 0 on a primary")
            .set(Double(received?.value ?? 0))
        gauge("postgres_wal_replayed_lsn_bytes", labels, "A standby's last WAL position replayed, 0 on a primary").set(Double(replayed?.value ?? 0))
        gauge("postgres_wal_replay_paused", labels, "1 while the standby's WAL replay is paused (pg_wal_replay_pause)").set(Double(replayPaused ? 1 : 0))
        gauge("cluster_paused", labels, "1 while the cluster is paused (no automatic failover)").set(Double(clusterPaused ? 1 : 0))
        guard let version = probe?.serverVersion, let activity = probe?.activity else { return }
        gauge("postgres_server_version", labels, "server_version_num of the node's database").set(Double(version))
        gauge("postgres_pending_restart", labels, "1 when a changed setting waits for a restart of the node's database")
            .set(Double(activity.pendingRestart ? 1 : 0))
        if let started = activity.postmasterStartMillis {
            gauge("postgres_postmaster_start_timestamp_seconds", labels, "When the node's postmaster started (Unix time)").set(Double(started) / 1000)
        }
        mirror("postgres_wal_archived", node, activity.archivedCount, "WAL segments archived by the node's database (pg_stat_archiver.archived_count)")
        mirror(
            "postgres_wal_archive_failures", node, activity.archiveFailedCount,
            "Failed WAL archive attempts of the node's database (pg_stat_archiver.failed_count)")
        if let at = activity.lastArchivedMillis {
            gauge("postgres_wal_last_archived_timestamp_seconds", labels, "When the node's database last archived a WAL segment (Unix time)")
                .set(Double(at) / 1000)
        }
        if let at = activity.lastArchiveFailedMillis {
            gauge("postgres_wal_last_archive_failure_timestamp_seconds", labels, "When an archive attempt of the node's database last failed (Unix time)")
                .set(Double(at) / 1000)
        }
    }

    func etcdContact(_ node: String, atMillis: Int64?) {
        guard let atMillis else { return }
        gauge("etcd_last_contact_timestamp_seconds", [("node", node)], "When this agent last read etcd (Unix time)").set(Double(atMillis) / 1000)
    }
}
