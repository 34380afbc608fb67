import DRCore
import DRPostgres
import DRSystem
import Foundation

/// Turns this node's stopped (fenced) database into a streaming standby of the leader:
/// crash recovery in single-user mode if it was not shut down cleanly (pg_rewind insists),
/// `pg_rewind` from the leader (a no-op when the timelines did not diverge), then
/// `standby.signal` and `primary_conninfo` before it is started. It never starts the
/// database as a primary: if any step fails, the database stays stopped.
extension PostgresController {
    /// The configuration files `pg_rewind` would overwrite with the leader's copies (its
    /// port, listen address and upstream would then be the leader's).
    static let ownConfigFiles = ["postgresql.conf", "postgresql.auto.conf", "pg_hba.conf", "pg_ident.conf"]

    public func rejoin(_ leader: NodeConfig) async throws {
        guard let dataDir = node.dataDir else {
            throw AgentError.cannotRejoin(node: node.name, detail: "no data_dir configured for \(node.name)")
        }
        if postmasterRunning() == true {
            // A fenced node started again in recovery (by init, by hand): read-only, but it
            // must be stopped to be rewound.
            let pgctl = try PostgresBinaries.binary("pg_ctl")
            _ = try await CommandRunner.run([pgctl, "-D", dataDir, "-m", "fast", "-t", "30", "-w", "stop"], as: .forPostgres, check: false)
            guard postmasterRunning() != true else {
                throw AgentError.cannotRejoin(node: node.name, detail: "its database is running and did not stop; stop it, then `drctl rejoin \(node.name)`")
            }
        }
        try removeStaleLockFile(dataDir: dataDir)
        let user = ServerUser.forPostgres
        // pg_rewind accepts both clean states: a primary's and a standby's shutdown.
        if try await !["shut down", "shut down in recovery"].contains(clusterState(dataDir: dataDir)) {
            // Crash recovery without a listening socket: nothing can connect and write.
            // Single-user mode refuses standby mode, so the fence's standby.signal steps
            // aside for it and is back before anything else can start the server.
            let signal = "\(dataDir)/standby.signal"
            try? FileManager.default.removeItem(atPath: signal)
            let postgres = try PostgresBinaries.binary("postgres")
            let recovered = try await CommandRunner.run(
                [postgres, "--single", "-D", dataDir, "-c", "archive_mode=off", "postgres"],
                as: user, check: false)
            try await writeStandbySignal(dataDir: dataDir)
            guard recovered.status == 0 else {
                throw AgentError.cannotRejoin(node: node.name, detail: "crash recovery in single-user mode exited \(recovered.status): \(recovered.stderr.suffix(500))")
            }
        }
        try await PGConnection.withSession(node: leader.name, conninfo: leader.conninfo, statementTimeout: .seconds(300)) { session in
            guard try await !session.query("SELECT pg_is_in_recovery() AS r").single().bool("r") else {
                throw AgentError.cannotRejoin(node: node.name, detail: "\(leader.name) is still in recovery; rewinding from it would miss its new timeline")
            }
            // pg_rewind reads the source's timeline from pg_control, which a freshly promoted
            // server updates only at its first checkpoint: without one it sees "the same
            // timeline" and rewinds nothing.
            _ = try await session.query("CHECKPOINT")
        }
        try await createSlot(on: leader)

        let saved = try Self.ownConfigFiles.reduce(into: [String: Data]()) { files, name in
            let path = "\(dataDir)/\(name)"
            if FileManager.default.fileExists(atPath: path) { files[name] = try Data(contentsOf: URL(fileURLWithPath: path)) }
        }
        let source = "host=\(leader.connection.host) port=\(leader.connection.port) user=\(leader.connection.parameters["user"] ?? "postgres") dbname=postgres"
        let rewind = try await CommandRunner.run(
            [try PostgresBinaries.binary("pg_rewind"), "--target-pgdata", dataDir, "--source-server", source],
            as: user, check: false)
        for (name, data) in saved { try data.write(to: URL(fileURLWithPath: "\(dataDir)/\(name)")) }
        guard rewind.status == 0 else {
            throw AgentError.cannotRejoin(node: node.name, detail: "pg_rewind from \(leader.name) exited \(rewind.status): \(rewind.stderr.trimmingCharacters(in: .whitespacesAndNewlines))")
        }

        let autoConf = "\(dataDir)/postgresql.auto.conf"
        let kept = ((try? String(contentsOfFile: autoConf, encoding: .utf8)) ?? "").split(separator: "\n", omittingEmptySubsequences: false)
            .filter { line in !["primary_conninfo", "primary_slot_name"].contains { line.trimmingCharacters(in: .whitespaces).hasPrefix($0) } }
        let settings =
            kept.joined(separator: "\n").trimmingCharacters(in: .whitespacesAndNewlines) + """

                primary_conninfo = '\(upstreamConninfo(leader).replacing("'", with: "''"))'
                primary_slot_name = '\(slotName)'

                """
        try Data(settings.utf8).write(to: URL(fileURLWithPath: autoConf))
        try Data().write(to: URL(fileURLWithPath: "\(dataDir)/standby.signal"))
        if geteuid() == 0 {
            // Written by root here: hand them back to the server's user.
            for path in [autoConf, "\(dataDir)/standby.signal"] + Self.ownConfigFiles.map({ "\(dataDir)/\($0)" }) {
                _ = try? await CommandRunner.run(["chown", "postgres:postgres", path])
            }
        }
        let pgctl = try PostgresBinaries.binary("pg_ctl")
        try await CommandRunner.run([pgctl, "-D", dataDir, "-l", "\(dataDir)/drctl-restart.log", "-W", "start"], as: user)
    }

    /// `Database cluster state` from pg_controldata (`shut down`, `in production`, …).
    private func clusterState(dataDir: String) async throws -> String {
        try await controlField("Database cluster state", dataDir: dataDir) ?? "unknown"
    }

    /// One field of pg_controldata's output.
    func controlField(_ name: String, dataDir: String) async throws -> String? {
        let output = try await CommandRunner.run([try PostgresBinaries.binary("pg_controldata"), dataDir], as: .forPostgres).stdout
        let line = output.split(separator: "\n").first { $0.hasPrefix(name + ":") }
        return line.map { String($0.dropFirst(name.count + 1)).trimmingCharacters(in: .whitespaces) }
    }

    /// Switchover: a fast shutdown, which PostgreSQL finishes only after its WAL senders
    /// have sent everything up to the shutdown checkpoint to the connected standbys.
    /// Returns where that WAL ends (the shutdown checkpoint). Never an immediate stop: that
    /// would not wait for the standbys; on failure the caller fences the ordinary way.
    public func stopForHandover(within limit: Duration) async throws -> LSN {
        guard let dataDir = node.dataDir else {
            throw AgentError.cannotFence(node: node.name, detail: "no data_dir configured for \(node.name): the agent cannot stop its database")
        }
        try await writeStandbySignal(dataDir: dataDir)
        let pgctl = try PostgresBinaries.binary("pg_ctl")
        let seconds = String(max(1, Int(limit.seconds.rounded(.up))))
        try await CommandRunner.run([pgctl, "-D", dataDir, "-m", "fast", "-t", seconds, "-w", "stop"], as: .forPostgres)
        guard try await clusterState(dataDir: dataDir) == "shut down",
            let text = try await controlField("Latest checkpoint location", dataDir: dataDir), let lsn = LSN(text)
        else {
            throw AgentError.cannotFence(node: node.name, detail: "the database did not shut down cleanly for the switchover")
        }
        return lsn
    }
}
