import DRCore
import DRPostgres
import DRSystem
import Foundation

/// Builds a new, running instance from a backup: `initdb` + `pg_restore` for a logical
/// backup; the base backup's tar + `restore_command` (`drctl wal-fetch`) + a recovery
/// target for a point in time. The checksum is checked before anything is written.
public struct Restore: Sendable {
    public enum Target: Sendable, Equatable {
        case latest
        /// A timestamp PostgreSQL accepts for recovery_target_time (e.g. 2026-11-23 08:00:00+00).
        case time(String)
        case lsn(LSN)
        /// A restore point made with pg_create_restore_point (`drctl backup mark`, drills).
        case name(String)
        /// A transaction id: recovery stops just after it commits.
        case xid(String)
        /// The end of the base backup: the earliest consistent state.
        case immediate
    }

    /// What the server does at the target (recovery_target_action).
    public enum TargetAction: String, Sendable, Equatable, CaseIterable {
        /// Ends recovery: a new timeline, writable (the default).
        case promote
        /// Stays in recovery, paused, read-only: inspect it, then `SELECT pg_wal_replay_resume()` to promote.
        case pause
        /// Stops: start it later with another target, or to keep it as it is.
        case shutdown
    }

    /// The restored, running instance.
    public struct Instance: Sendable {
        public var dataDir: String
        public var host = "127.0.0.1"
        public var port: Int
        public var backup: BackupManifest
        public var seconds: Double
        public var conninfo: String { "host=\(host) port=\(port) user=postgres dbname=\(backup.database ?? "postgres")" }
    }

    public let repository: BackupRepository
    /// How `restore_command` calls drctl: the executable and its `--config` file.
    public let drctl: String
    public let configFile: String

    public init(repository: BackupRepository, drctl: String, configFile: String) {
        self.repository = repository
        self.drctl = drctl
        self.configFile = configFile
    }

    /// The backup a target needs: the newest backup for `latest` (or of `kind`); the newest
    /// base backup finished before a time or LSN target.
    public func choose(_ target: Target, kind: BackupManifest.Kind?, id: String?) async throws -> BackupManifest {
        let all = try await repository.list()
        if let id { return try await repository.manifest(id) }
        switch target {
        case .latest:
            guard let newest = all.filter({ kind == nil || $0.kind == kind }).last else {
                throw BackupError.noBackup(repository: repository.location, what: "\(kind.map { "\($0.rawValue) " } ?? "")backup")
            }
            return newest
        case .time(let text):
            let bases = all.filter { $0.kind == .base }
            guard let wanted = Self.parseTime(text) else { throw BackupError.refused("--target-time: cannot read \"\(text)\" as a time (e.g. 2026-11-23T08:00:00Z)") }
            guard let base = bases.last(where: { Self.parseTime($0.finishedAt).map { $0 <= wanted } ?? false }) else {
                throw BackupError.noBackup(repository: repository.location, what: "base backup finished before \(text)")
            }
            return base
        case .lsn(let lsn):
            guard let base = all.filter({ $0.kind == .base }).last(where: { ($0.stopLSN ?? LSN(UInt64.max)) <= lsn }) else {
                throw BackupError.noBackup(repository: repository.location, what: "base backup ending before \(lsn)")
            }
            return base
        case .name, .xid, .immediate:
            // Which base backup precedes a name or a transaction is not known here: the newest
            // (`--backup ID` picks an older one).
            guard let base = all.last(where: { $0.kind == .base }) else {
                throw BackupError.noBackup(repository: repository.location, what: "base backup")
            }
            return base
        }
    }

    static func parseTime(_ text: String) -> Date? {
        UTCTime.parse(text)
    }

    /// - Parameter settings: the new server's own settings, written to postgresql.auto.conf;
    ///   nil: a throwaway instance on 127.0.0.1:`port`, archiving off (a restore to inspect,
    ///   a drill). `region activate` gives the node's address (`host`), port and archiving.
    /// - Parameters:
    ///   - timeline: recovery_target_timeline (`latest`, `current` or a number); latest unless given.
    ///   - action: what the server does at the target; a paused or stopped server is
    ///     returned as it is (the short-restore check applies to a promotion only).
    public func run(
        _ backup: BackupManifest, target: Target, to dataDir: String, host: String = "127.0.0.1", port: Int, settings: [String]? = nil,
        showProgress: Bool = true, timeline: String? = nil, action: TargetAction = .promote
    ) async throws -> Instance {
        if let entries = try? FileManager.default.contentsOfDirectory(atPath: dataDir), !entries.isEmpty {
            throw BackupError.refused("restore: \(dataDir) is not empty; give a new directory")
        }
        if backup.kind == .logical, target != .latest {
            throw BackupError.refused("backup \(backup.id) is logical: it restores to the moment it was taken; a time or LSN target needs a base backup")
        }
        let started = Date()
        let user = ServerUser.forPostgres
        let pgctl = try PostgresBinaries.binary("pg_ctl")
        let local =
            settings ?? [
                "port = \(port)", "listen_addresses = '127.0.0.1'", "unix_socket_directories = ''", "archive_mode = off",
                "cluster_name = 'drctl-restore'", "primary_conninfo = ''", "synchronous_standby_names = ''",
            ]
        switch backup.kind {
        case .logical:
            // pg_restore -j reads the dump out of order: from a bucket it comes down beside the
            // new data directory first (checked as it arrives) and goes once restored; a
            // directory repository's file is read in place.
            let scratch = Self.downloadDirectory(for: dataDir)
            defer { try? FileManager.default.removeItem(atPath: scratch) }
            let download = ProgressMeter(label: "downloading \(backup.id)", total: backup.size, enabled: showProgress && isatty(STDERR_FILENO) == 1)
            let file = try await repository.fetchChecked(backup, scratch: scratch, progress: download)
            if geteuid() == 0, file.hasPrefix(scratch) { _ = try await CommandRunner.run(["chown", "-R", "postgres:postgres", scratch]) }
            try await DataDirectory.prepare(dataDir)
            try await CommandRunner.run([try PostgresBinaries.binary("initdb"), "-D", dataDir, "-U", "postgres", "--auth=trust", "--no-instructions"], as: user)
            try append(local, to: "\(dataDir)/postgresql.auto.conf")
            try await CommandRunner.run([pgctl, "-D", dataDir, "-l", "\(dataDir)/restore.log", "-w", "-t", "120", "start"], as: user)
            let database = backup.database ?? "postgres"
            let admin = "host=\(host) port=\(port) user=postgres dbname=postgres"
            if database != "postgres" {
                try await PGConnection.withSession(node: "restore", conninfo: admin) { session in
                    _ = try await session.query("CREATE DATABASE \"\(database.replacing("\"", with: "\"\""))\"")
                }
            }
            // Progress: the restored database's size as it grows (the dump is compressed: no ETA).
            let meter = ProgressMeter(label: "pg_restore \(backup.id)", enabled: showProgress && isatty(STDERR_FILENO) == 1)
            let target = "host=\(host) port=\(port) user=postgres dbname=\(database)"
            let databaseSize: @Sendable () async -> UInt64? = {
                try? await PGConnection.withSession(node: "restore", conninfo: target, connectTimeout: .seconds(1)) { session in
                    UInt64(try await session.query("SELECT pg_database_size(current_database())::text AS s").single().string("s")) ?? 0
                }
            }
            let restore = try await meter.polling(databaseSize) {
                try await CommandRunner.run([try PostgresBinaries.binary("pg_restore"), "--no-owner", "--exit-on-error", "-j", "2", "-d", target, file], check: false)
            }
            guard restore.status == 0 else {
                throw BackupError.commandFailed(what: "pg_restore of \(backup.id) into \(dataDir)", status: restore.status, output: restore.stderr)
            }
        case .base:
            try await DataDirectory.prepare(dataDir)
            try await extract(backup, into: dataDir, showProgress: showProgress)
            var recovery = local
            recovery.append("restore_command = '\(drctl) wal-fetch %f %p --config \(configFile)'")
            recovery.append("recovery_target_timeline = '\((timeline ?? "latest").replacing("'", with: "''"))'")
            switch target {
            case .latest: break
            case .time(let text): recovery += ["recovery_target_time = '\(text.replacing("'", with: "''"))'", "recovery_target_inclusive = true"]
            case .lsn(let lsn): recovery += ["recovery_target_lsn = '\(lsn)'", "recovery_target_inclusive = true"]
            case .name(let name): recovery.append("recovery_target_name = '\(name.replacing("'", with: "''"))'")
            case .xid(let xid): recovery += ["recovery_target_xid = '\(xid.replacing("'", with: "''"))'", "recovery_target_inclusive = true"]
            case .immediate: recovery.append("recovery_target = 'immediate'")
            }
            recovery.append("recovery_target_action = '\(action.rawValue)'")
            try append(recovery, to: "\(dataDir)/postgresql.auto.conf")
            try Data().write(to: URL(fileURLWithPath: "\(dataDir)/recovery.signal"))
            if geteuid() == 0 {
                _ = try await CommandRunner.run(["chown", "postgres:postgres", "\(dataDir)/postgresql.auto.conf", "\(dataDir)/recovery.signal"])
            }
            // What the archive holds before recovery starts is what it must reach: a live
            // primary archiving on meanwhile makes no restore short.
            let archived = target == .latest ? try await WALArchive(repository: repository).names() : []
            // -W: recovery may take long; promotion is waited for below.
            try await CommandRunner.run([pgctl, "-D", dataDir, "-l", "\(dataDir)/restore.log", "-W", "start"], as: user)
            try await waitUntilAtTarget(action, host: host, port: port, logFile: "\(dataDir)/restore.log")
            if target == .latest, action == .promote { try await refuseShortRecovery(backup, dataDir: dataDir, archived: archived) }
        }
        return Instance(dataDir: dataDir, host: host, port: port, backup: backup, seconds: Date().timeIntervalSince(started))
    }

    /// Unpacks the base backup into `dataDir`, which must be empty or absent: a data
    /// directory that recovery then brings up (an agent building a standby writes its own
    /// `standby.signal` and settings).
    public func extractBase(_ backup: BackupManifest, into dataDir: String, showProgress: Bool = false) async throws {
        guard backup.kind == .base else { throw BackupError.refused("backup \(backup.id) is logical: a standby needs a base backup") }
        if let entries = try? FileManager.default.contentsOfDirectory(atPath: dataDir), !entries.isEmpty {
            throw BackupError.refused("\(dataDir) is not empty")
        }
        try await DataDirectory.prepare(dataDir)
        try await extract(backup, into: dataDir, showProgress: showProgress)
    }

    /// Where a logical restore downloads its dump from object storage.
    static func downloadDirectory(for dataDir: String) -> String { dataDir + ".download" }

    /// Streams a base backup's tar from the repository straight into `tar -x` as the server's
    /// user — no second copy on disk, unpacking while the next part downloads — then drops the
    /// files that belong to the server it was taken from. The checksum is known only at the
    /// end: on a mismatch (or any failure) what was unpacked is removed, leaving `dataDir`
    /// empty as it was found.
    func extract(_ backup: BackupManifest, into dataDir: String, showProgress: Bool) async throws {
        // Progress: bytes unpacked so far against the tar's size.
        let meter = ProgressMeter(label: "restoring \(backup.id)", total: backup.size, enabled: showProgress && isatty(STDERR_FILENO) == 1)
        let extracted: @Sendable () async -> UInt64? = { await DataDirectory.size(dataDir) }
        let tar = try FedCommand(ServerUser.forPostgres.wrap(["tar"] + backup.tarDecompression + ["-xf", "-", "-C", dataDir]))
        do {
            try await meter.polling(extracted) { try await repository.streamChecked(backup) { try tar.write($0) } }
        } catch {
            await tar.cancel()
            DataDirectory.empty(dataDir)
            throw error
        }
        let unpacked = await tar.finish()
        guard unpacked.status == 0 else {
            DataDirectory.empty(dataDir)
            throw BackupError.commandFailed(what: "tar -x of backup \(backup.id) into \(dataDir)", status: unpacked.status, output: unpacked.stderr)
        }
        for leftover in ["standby.signal", "recovery.signal", "postmaster.pid", "postmaster.opts"] {
            try? FileManager.default.removeItem(atPath: "\(dataDir)/\(leftover)")
        }
    }

    private func append(_ lines: [String], to path: String) throws {
        let existing = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
        try (existing + "\n# drctl restore\n" + lines.joined(separator: "\n") + "\n").write(toFile: path, atomically: false, encoding: .utf8)
    }

    /// A restore to the end of the archive must reach it: if the archive held segments
    /// (when recovery began) after the last one recovery restored, on that timeline, a fetch
    /// failed or the archive has a hole, and the copy is short. The instance is stopped,
    /// not handed out.
    func refuseShortRecovery(_ backup: BackupManifest, dataDir: String, archived: [String]) async throws {
        let log = (try? String(contentsOfFile: "\(dataDir)/restore.log", encoding: .utf8)) ?? ""
        let stopSegment = backup.stopLSN.map { lsn in
            String(format: "%08X%08X%08X", backup.timeline ?? 1, UInt32(lsn.value >> 32), UInt32((lsn.value & 0xFFFF_FFFF) >> 24))
        }
        guard let last = RecoveryEnd.lastRestored(log: log) ?? stopSegment else { return }
        let missed = RecoveryEnd.missed(after: last, archived: archived)
        guard let newest = missed.last else { return }
        _ = try? await CommandRunner.run([try PostgresBinaries.binary("pg_ctl"), "-D", dataDir, "-m", "fast", "-w", "stop"], as: ServerUser.forPostgres, check: false)
        throw BackupError.shortRecovery(dataDir: dataDir, lastRestored: last, archiveEnd: newest, missed: missed.count)
    }

    /// At the target as `action` leaves it: promoted, paused in recovery, or stopped.
    private func waitUntilAtTarget(_ action: TargetAction, host: String, port: Int, logFile: String, within limit: Duration = .seconds(600)) async throws {
        switch action {
        case .promote: try await waitUntilPromoted(host: host, port: port, logFile: logFile, within: limit)
        case .pause, .shutdown:
            let clock = ContinuousClock()
            let deadline = clock.now + limit
            let reached = action == .pause ? "pausing at the end of recovery" : "shutdown at recovery target"
            while clock.now < deadline {
                let log = (try? String(contentsOfFile: logFile, encoding: .utf8)) ?? ""
                if log.contains(reached) || (action == .pause && log.contains("recovery has paused")) {
                    if action == .shutdown { try await Task.sleep(for: .milliseconds(500)) }
                    return
                }
                try Self.refuseFailedRecovery(log: log, logFile: logFile)
                try await Task.sleep(for: .milliseconds(200))
            }
            throw BackupError.refused("the restored instance did not reach its target within \(limit); see \(logFile)")
        }
    }

    /// Recovery that failed: the target was never reached, or recovery stopped because a
    /// WAL fetch failed for a reason other than "not archived" (`wal-fetch` exit 128): the
    /// server is down, its data directory untouched by any promotion, to be started again.
    static func refuseFailedRecovery(log: String, logFile: String) throws {
        guard log.contains("FATAL") else { return }
        let tail = log.split(separator: "\n").suffix(8).joined(separator: "\n")
        if log.contains("due to startup process failure") {
            throw BackupError.refused(
                "recovery stopped: a WAL fetch failed (not a missing segment); nothing was promoted. Mend what \(logFile) names, "
                    + "then start the server on that data directory again and recovery goes on:\n\(tail)")
        }
        if log.contains("recovery ended before configured recovery target") || log.contains("shutting down") {
            throw BackupError.refused("recovery failed: \(tail)")
        }
    }

    /// Consistent and out of recovery (promoted at the target), or the log says why not.
    private func waitUntilPromoted(host: String, port: Int, logFile: String, within limit: Duration = .seconds(600)) async throws {
        let clock = ContinuousClock()
        let deadline = clock.now + limit
        while clock.now < deadline {
            let promoted = try? await PGConnection.withSession(
                node: "restore", conninfo: "host=\(host) port=\(port) user=postgres dbname=postgres",
                connectTimeout: .seconds(1)
            ) { session in
                try await !session.query("SELECT pg_is_in_recovery() AS r").single().bool("r")
            }
            if promoted == true { return }
            let log = (try? String(contentsOfFile: logFile, encoding: .utf8)) ?? ""
            try Self.refuseFailedRecovery(log: log, logFile: logFile)
            try await Task.sleep(for: .milliseconds(200))
        }
        throw BackupError.refused("the restored instance did not finish recovery within \(limit); see \(logFile)")
    }
}
