import DRCore

/// Reads what `drctl preflight` judges from one node's server, changing nothing: its
/// settings, the archiver's state and its replication slots.
public struct PreflightProbe: Sendable {
    public init() {}

    public func settings(node: String, conninfo: String) async -> PreflightObservations.NodeRead {
        do {
            return .read(
                try await PGConnection.withSession(node: node, conninfo: conninfo, connectTimeout: .seconds(3), statementTimeout: .seconds(5)) { session in
                    let row = try await session.query(
                        """
                        SELECT pg_is_in_recovery() AS in_recovery, current_setting('wal_level') AS wal_level,
                               current_setting('max_wal_senders')::int AS senders, current_setting('max_replication_slots')::int AS slots,
                               current_setting('hot_standby') AS hot_standby, current_setting('wal_log_hints') AS hints,
                               current_setting('data_checksums') AS checksums, current_setting('archive_mode') AS archive_mode,
                               current_setting('archive_command') AS archive_command, current_setting('restore_command') AS restore_command,
                               coalesce((SELECT last_failed_time > coalesce(last_archived_time, '-infinity') FROM pg_stat_archiver), false) AS failing,
                               coalesce((SELECT string_agg(slot_name, ',') FROM pg_replication_slots), '') AS slot_names,
                               (SELECT last_archived_wal FROM pg_stat_archiver) AS last_archived,
                               current_setting('data_directory', true) AS data_directory,
                               (\(PrimaryState.asynchronousCommitsQuery)) AS asynchronous_commits
                        """
                    ).single()
                    var settings = PreflightNodeSettings(
                        inRecovery: try row.bool("in_recovery"), walLevel: try row.string("wal_level"), maxWalSenders: try row.int("senders"),
                        maxReplicationSlots: try row.int("slots"), hotStandby: try row.string("hot_standby") == "on",
                        walLogHints: try row.string("hints") == "on", dataChecksums: try row.string("checksums") == "on",
                        archiveMode: try row.string("archive_mode"), archiveCommand: try row.string("archive_command"),
                        restoreCommand: try row.string("restore_command"), archiverFailing: try row.bool("failing"),
                        slots: try row.string("slot_names").split(separator: ",").map(String.init))
                    settings.lastArchivedWAL = try row.optionalString("last_archived")
                    settings.dataDirectory = try row.optionalString("data_directory")
                    settings.asynchronousCommits = try row.string("asynchronous_commits").split(separator: ",").map(String.init)
                    return settings
                })
        } catch let error as PGError {
            return .unreachable(error.message)
        } catch {
            return .unreachable("\(error)")
        }
    }
}
