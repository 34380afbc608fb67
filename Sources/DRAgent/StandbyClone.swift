import DRBackup
import DRCore
import DRPostgres
import DRSystem
import Foundation

/// Builds this node's database anew as a streaming standby of the leader: from the
/// repository (the newest base backup, then the WAL archive through `restore_command`, then
/// streaming) or from the primary (`pg_basebackup` through the node's replication slot),
/// the sources tried in `replica.create_from`'s order. Whatever the data directory held is
/// replaced (a re-initialisation keeps the node's own configuration files). The server is
/// only ever started with `standby.signal`: a clone never comes up writable.
public enum StandbyClone {
    /// The backup repository as a standby's source.
    public struct RepositorySource: Sendable {
        public var config: ClusterConfig
        /// The drctl executable and config file that `restore_command` runs (`wal-fetch`).
        public var drctl: String
        public var configFile: String

        public init(config: ClusterConfig, drctl: String, configFile: String) {
            self.config = config
            self.drctl = drctl
            self.configFile = configFile
        }
    }

    /// Which source built the standby, and why the ones before it did not.
    public struct Outcome: Sendable, Equatable {
        public var source: ReplicaConfig.Source
        public var skipped: [String]

        public init(source: ReplicaConfig.Source, skipped: [String] = []) {
            self.source = source
            self.skipped = skipped
        }
    }

    /// Settings of the leader that name the leader itself: a copy of its configuration
    /// would make the new standby listen on the leader's address and port.
    struct Identity {
        var listenAddresses: String
        var port: Int
        var clusterName: String
        /// The leader's databases, the size a copy from it comes to (about).
        var databaseBytes: UInt64?
    }

    /// Lines of postgresql.auto.conf that describe where a server came from or what it was
    /// told by an operator, which a new standby must not inherit.
    static let inheritedSettings = [
        "primary_conninfo", "primary_slot_name", "restore_command", "recovery_target", PrimaryState.forcedPromotionSetting,
        "synchronous_standby_names",
    ]
}

extension PostgresController {
    /// Whether the data directory holds no database (no `PG_VERSION`); false without a
    /// `data_dir`, where nothing can be known.
    public func dataDirectoryEmpty() -> Bool {
        guard let dataDir = node.dataDir else { return false }
        return !FileManager.default.fileExists(atPath: "\(dataDir)/PG_VERSION")
    }

    public func archiveRecoveryUnderway() -> Bool {
        guard let dataDir = node.dataDir else { return false }
        return FileManager.default.fileExists(atPath: "\(dataDir)/recovery.signal")
    }

    public func cloneStandby(
        _ leader: NodeConfig, from sources: [ReplicaConfig.Source], progress: @escaping @Sendable (CloneProgress) -> Void
    ) async throws -> StandbyClone.Outcome {
        guard let dataDir = node.dataDir else {
            throw AgentError.cannotClone(node: node.name, detail: "no data_dir configured for \(node.name)")
        }
        if postmasterRunning() == true {
            let pgctl = try PostgresBinaries.binary("pg_ctl")
            _ = try await CommandRunner.run([pgctl, "-D", dataDir, "-m", "fast", "-t", "60", "-w", "stop"], as: .forPostgres, check: false)
            guard postmasterRunning() != true else {
                throw AgentError.cannotClone(node: node.name, detail: "its database is running and did not stop within 60 s")
            }
        }
        // A re-initialised node keeps its own configuration (its port, its memory settings).
        let own = try Self.ownConfigFiles.reduce(into: [String: Data]()) { files, name in
            let path = "\(dataDir)/\(name)"
            if FileManager.default.fileExists(atPath: path) { files[name] = try Data(contentsOf: URL(fileURLWithPath: path)) }
        }
        let identity = try await leaderIdentity(leader)
        var failures: [String] = []
        for source in sources {
            do {
                try await emptyDataDirectory(dataDir)
                switch source {
                case .primary:
                    try await createSlot(on: leader)
                    let watch = CloneProgressWatch(source: source, dataDir: dataDir, expected: identity.databaseBytes, report: progress)
                    let cloned = try await watch.during {
                        try await CommandRunner.run(
                            [
                                try PostgresBinaries.binary("pg_basebackup"), "-d", upstreamConninfo(leader), "-D", dataDir, "-X", "stream", "-S", slotName,
                                "-c", "fast", "--no-password",
                            ], as: .forPostgres, check: false)
                    }
                    guard cloned.status == 0 else {
                        throw AgentError.cannotClone(node: node.name, detail: "pg_basebackup exited \(cloned.status): \(cloned.stderr.suffix(500))")
                    }
                case .repository:
                    guard let repository else { throw AgentError.cannotClone(node: node.name, detail: "no backup repository configured") }
                    let restore = Restore(repository: try BackupRepository(config: repository.config), drctl: repository.drctl, configFile: repository.configFile)
                    guard let newest = try await restore.repository.list().last(where: { $0.kind == .base }) else {
                        throw AgentError.cannotClone(node: node.name, detail: "the repository holds no base backup")
                    }
                    let watch = CloneProgressWatch(source: source, dataDir: dataDir, expected: newest.size, report: progress)
                    try await watch.during { try await restore.extractBase(newest, into: dataDir) }
                    try await createSlot(on: leader)
                }
                try await configureStandby(dataDir, leader: leader, source: source, own: own, identity: identity)
                let pgctl = try PostgresBinaries.binary("pg_ctl")
                try await CommandRunner.run([pgctl, "-D", dataDir, "-l", "\(dataDir)/drctl-restart.log", "-W", "start"], as: .forPostgres)
                return StandbyClone.Outcome(source: source, skipped: failures)
            } catch {
                failures.append("from \(source.rawValue): \(error)")
            }
        }
        // Left empty, not half-built: the next attempt starts from scratch.
        try? await emptyDataDirectory(dataDir)
        throw AgentError.cannotClone(node: node.name, detail: failures.joined(separator: "; "))
    }

    private func leaderIdentity(_ leader: NodeConfig) async throws -> StandbyClone.Identity {
        try await PGConnection.withSession(node: leader.name, conninfo: leader.conninfo) { session in
            func show(_ name: String) async throws -> String {
                try await session.query("SELECT current_setting($1) AS v", [name]).single().string("v")
            }
            let bytes = try? await session.query("SELECT sum(pg_database_size(oid))::text AS n FROM pg_database").single().string("n")
            return StandbyClone.Identity(
                listenAddresses: try await show("listen_addresses"), port: Int(try await show("port")) ?? 5432, clusterName: try await show("cluster_name"),
                databaseBytes: bytes.flatMap { UInt64($0) })
        }
    }

    /// Removes everything inside the data directory (which may be a mount point, so it
    /// stays), or creates it, owned by the server's user with mode 0700.
    private func emptyDataDirectory(_ dataDir: String) async throws {
        let files = FileManager.default
        if let entries = try? files.contentsOfDirectory(atPath: dataDir) {
            for entry in entries { try files.removeItem(atPath: "\(dataDir)/\(entry)") }
        }
        try await DataDirectory.prepare(dataDir)
    }

    /// The node's own configuration back (re-initialised), or the leader's with the
    /// settings naming the leader turned to this node's (new); then where to stream from
    /// and `standby.signal`.
    private func configureStandby(
        _ dataDir: String, leader: NodeConfig, source: ReplicaConfig.Source, own: [String: Data], identity: StandbyClone.Identity
    ) async throws {
        for (name, data) in own { try data.write(to: URL(fileURLWithPath: "\(dataDir)/\(name)")) }
        let autoConf = "\(dataDir)/postgresql.auto.conf"
        var lines = ((try? String(contentsOfFile: autoConf, encoding: .utf8)) ?? "").split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
            .filter { line in !StandbyClone.inheritedSettings.contains { line.trimmingCharacters(in: .whitespaces).hasPrefix($0) } }
        if own.isEmpty {
            // Only what names the leader changes: a shared '*' or a common port stays as it is.
            if identity.listenAddresses.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) }).contains(leader.connection.host) {
                lines.append("listen_addresses = '\(node.connection.host)'")
            }
            if identity.port != node.connection.port { lines.append("port = \(node.connection.port)") }
            if identity.clusterName.contains(leader.name) {
                lines.append("cluster_name = '\(identity.clusterName.replacing(leader.name, with: node.name).replacing("'", with: "''"))'")
            }
        }
        lines.append("primary_conninfo = '\(upstreamConninfo(leader).replacing("'", with: "''"))'")
        lines.append("primary_slot_name = '\(slotName)'")
        if source == .repository, let repository {
            lines.append("restore_command = '\(repository.drctl) wal-fetch %f %p --config \(repository.configFile)'")
        }
        try Data((lines.joined(separator: "\n").trimmingCharacters(in: .whitespacesAndNewlines) + "\n").utf8).write(to: URL(fileURLWithPath: autoConf))
        try Data().write(to: URL(fileURLWithPath: "\(dataDir)/standby.signal"))
        if geteuid() == 0 {
            // Written by root here; the rest came from pg_basebackup or tar, run as the server's user.
            let written = [autoConf, "\(dataDir)/standby.signal"] + own.keys.map { "\(dataDir)/\($0)" }
            try await CommandRunner.run(["chown", "postgres:postgres"] + written)
        }
    }
}
