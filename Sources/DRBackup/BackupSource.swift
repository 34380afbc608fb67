import DRCore
import DRPostgres

/// Where a backup is taken from: the most caught-up streaming standby not tagged
/// `nobackup` (the primary keeps its I/O for clients), else the primary.
public struct BackupSource: Sendable {
    public var node: NodeConfig
    public var isStandby: Bool

    public static func choose(_ config: ClusterConfig) async throws -> BackupSource {
        let observations = await NodeProbe(connectTimeout: .seconds(2)).observeAll(config)
        let eligible = config.nodes.map(\.node).filter { !$0.tags.contains(.nobackup) }
        var best: (NodeConfig, LSN)?
        for node in eligible {
            guard case .standby(let state)? = observations.first(where: { $0.node == node.name })?.result,
                state.walReceiverStatus == "streaming", let lsn = state.bestLSN
            else { continue }
            if best == nil || lsn > best!.1 { best = (node, lsn) }
        }
        if let best { return BackupSource(node: best.0, isStandby: true) }
        for node in eligible {
            if case .primary? = observations.first(where: { $0.node == node.name })?.result { return BackupSource(node: node, isStandby: false) }
        }
        let seen = observations.map { "\($0.node): \($0.result)" }.joined(separator: "; ")
        throw BackupError.noSource(detail: "no streaming standby or primary without the nobackup tag is reachable (\(seen))")
    }

    /// The WAL position and timeline now (replayed on a standby, written on a primary), and the server version.
    func position(database: String) async throws -> (lsn: LSN, timeline: Int, version: Int) {
        let conninfo = node.connection.rendered(overriding: ["dbname": database])
        return try await PGConnection.withSession(node: node.name, conninfo: conninfo) { session in
            let row = try await session.query(
                """
                SELECT (CASE WHEN pg_is_in_recovery() THEN pg_last_wal_replay_lsn() ELSE pg_current_wal_lsn() END)::text AS lsn,
                       (SELECT timeline_id FROM pg_control_checkpoint()) AS timeline,
                       current_setting('server_version_num')::int AS version
                """
            ).single()
            return (try row.lsn("lsn"), try row.int("timeline"), try row.int("version"))
        }
    }
}
