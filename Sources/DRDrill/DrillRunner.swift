import DRBackup
import DRCoordination
import DRCore
import DRPostgres
import DRSystem
import Foundation

/// Runs one drill and writes its report (JSON and HTML) into the repository's `drills/`.
public struct DrillRunner: Sendable {
    public let config: ClusterConfig
    public let configFile: String
    /// The drctl executable (restore_command calls its wal-fetch).
    public let drctl: String

    /// Runs the drills that inject a fault into a running cluster; nil where none may run
    /// (the agent schedules restore drills only).
    public let faultDrill: (any FaultDrill)?
    /// The cluster name an operator typed with `--confirm`: a failover drill on a real
    /// cluster runs only when it names this one (a schedule never does).
    public let confirmedCluster: String?

    public init(config: ClusterConfig, configFile: String, drctl: String, faultDrill: (any FaultDrill)? = nil, confirmedCluster: String? = nil) {
        self.confirmedCluster = confirmedCluster
        self.config = config
        self.configFile = configFile
        self.drctl = drctl
        self.faultDrill = faultDrill
    }

    public struct Outcome: Sendable {
        public var report: DrillReport
        public var json: String
        public var html: String
    }

    public func run(_ spec: DrillSpec, progress: @Sendable (String) -> Void = { _ in }) async throws -> Outcome {
        guard config.backup != nil else { throw BackupError.refused("drills store their reports in the backup repository: the config has no `backup` section") }
        let repository = try BackupRepository(config: config)
        let clock = PhaseClock()
        // Every run its own directory, even two in one second (a refused attempt, then the
        // confirmed one): one report never overwrites another.
        let id = try await DrillReports(repository: repository).claim(Self.runID(spec.name, at: clock.startedDate))
        var measured = DrillMeasurement()
        var errors: [String] = []
        do {
            switch spec.kind {
            case .restoreLogical: measured = try await restoreLogical(spec, repository: repository, clock: clock, id: id, progress: progress)
            case .restorePITR: measured = try await restorePITR(spec, repository: repository, clock: clock, id: id, progress: progress)
            case .switchover: measured = try await SwitchoverDrill(runner: self).run(spec, clock: clock, progress: progress)
            case .failover where spec.target == .cluster: measured = try await ClusterFailoverDrill(runner: self).run(spec, clock: clock, progress: progress)
            case .failover, .regionOutage, .regionActivation:
                guard let faultDrill else { throw DrillError.notReady("\(spec.kind.rawValue) drills inject faults into the lab: run them with `drctl-lab drill run`") }
                measured = try await faultDrill.run(spec, runner: self, clock: clock, progress: progress)
            }
        } catch {
            errors.append("\(error)")
        }
        errors += measured.problems
        let rtoObjective = (spec.rto ?? config.objectives.rto).seconds, rpoObjective = (spec.rpo ?? config.objectives.rpo).seconds
        let report = DrillReport(
            id: id, drill: spec.name, kind: spec.kind.rawValue, cluster: config.cluster,
            startedAt: UTCTime.iso8601(clock.startedDate), finishedAt: UTCTime.iso8601(Date()),
            rtoSeconds: measured.rto, rpoSeconds: measured.rpo, dataLostBytes: measured.lostBytes, rtoObjectiveSeconds: rtoObjective,
            rpoObjectiveSeconds: rpoObjective, phases: clock.phases, validations: measured.validations,
            failures: DrillReport.failures(
                rto: measured.rto, rpo: measured.rpo, rtoObjective: rtoObjective, rpoObjective: rpoObjective,
                validations: measured.validations, errors: errors),
            notes: measured.notes)
        return try await DrillReports(repository: repository).write(report)
    }

    static func runID(_ name: String, at date: Date) -> String {
        "\(UTCTime.compact(date))-\(name)"
    }

    // MARK: restores into a scratch instance

    private func restoreLogical(
        _ spec: DrillSpec, repository: BackupRepository, clock: PhaseClock, id: String,
        progress: @Sendable (String) -> Void
    ) async throws -> DrillMeasurement {
        var backup = try? await Restore(repository: repository, drctl: drctl, configFile: configFile).choose(.latest, kind: .logical, id: nil)
        if backup == nil {
            progress("no logical backup yet: taking one")
            backup = try await clock.phase("take a logical backup") {
                let source = try await BackupSource.choose(config)
                let database = config.backup?.databases.first ?? source.node.connection.parameters["dbname"] ?? "postgres"
                return try await LogicalBackup(config: config, repository: repository).run(database: database, source: source, showProgress: false)
            }
        }
        guard let backup else { throw BackupError.noBackup(repository: repository.location, what: "logical backup") }
        return try await restoreAndValidate(spec, backup: backup, target: .latest, repository: repository, clock: clock, id: id, progress: progress)
    }

    private func restorePITR(
        _ spec: DrillSpec, repository: BackupRepository, clock: PhaseClock, id: String,
        progress: @Sendable (String) -> Void
    ) async throws -> DrillMeasurement {
        let restore = Restore(repository: repository, drctl: drctl, configFile: configFile)
        var base = try? await restore.choose(.latest, kind: .base, id: nil)
        if base == nil {
            progress("no base backup yet: taking one")
            base = try await clock.phase("take a base backup") {
                try await BaseBackup(config: config, repository: repository).run(source: try await BackupSource.choose(config), showProgress: false)
            }
        }
        guard let base else { throw BackupError.noBackup(repository: repository.location, what: "base backup") }
        let point = "drill-\(id)"
        progress("creating restore point \(point) on the primary and archiving its WAL")
        try await clock.phase("restore point archived") {
            let primary = try await primaryNode()
            try await PGConnection.withSession(node: primary.name, conninfo: primary.conninfo) { session in
                _ = try await session.query("SELECT pg_create_restore_point($1)", [point])
                _ = try await session.query("SELECT pg_switch_wal()")
            }
            try await waitForArchive(primary)
        }
        var measured = try await restoreAndValidate(spec, backup: base, target: .name(point), repository: repository, clock: clock, id: id, progress: progress)
        measured.notes.append("recovered to restore point \(point) from base backup \(base.id) and the WAL archive")
        return measured
    }

    private func restoreAndValidate(
        _ spec: DrillSpec, backup: BackupManifest, target: Restore.Target, repository: BackupRepository,
        clock: PhaseClock, id: String, progress: @Sendable (String) -> Void
    ) async throws -> DrillMeasurement {
        var measured = DrillMeasurement()
        // RPO: what restoring this backup loses, measured from the drill's start.
        if case .latest = target, let finished = UTCTime.parse(backup.finishedAt) {
            measured.rpo = max(0, clock.startedDate.timeIntervalSince(finished))
        }
        let dir = NSTemporaryDirectory() + "drctl-drill-\(UUID().uuidString.prefix(8).lowercased())"
        let port = try PortAllocator.freePort()
        let recoveryStart = clock.elapsed
        defer { Task { [dir] in await Self.discard(dir) } }
        try await clock.phase("verify checksum") { try await BackupVerifier(repository: repository).checkChecksum(backup) }
        progress("restoring \(backup.id) into a scratch instance on port \(port)")
        let instance = try await clock.phase("restore") {
            try await Restore(repository: repository, drctl: drctl, configFile: configFile).run(backup, target: target, to: dir, port: port, showProgress: false)
        }
        measured.validations = await clock.phase("validate") { await ValidationQueries.run(spec.validation, conninfo: instance.conninfo) }
        measured.rto = clock.elapsed - recoveryStart
        if case .name = target { measured.rpo = 0 }  // promoted exactly at the drill's restore point
        measured.notes.append("restored \(backup.id) (\(backup.kind.rawValue), \(backup.size) bytes, finished \(backup.finishedAt))")
        await Self.discard(dir)
        return measured
    }

    static func discard(_ dir: String) async {
        guard FileManager.default.fileExists(atPath: dir) else { return }
        if let pg = try? PostgresBinaries.binary("pg_ctl") {
            _ = try? await CommandRunner.run([pg, "-D", dir, "-m", "immediate", "stop"], as: .forPostgres, check: false)
        }
        try? FileManager.default.removeItem(atPath: dir)
    }

    private func primaryNode() async throws -> NodeConfig {
        let observations = await NodeProbe(connectTimeout: .seconds(2)).observeAll(config)
        for entry in config.nodes {
            if case .primary? = observations.first(where: { $0.node == entry.node.name })?.result { return entry.node }
        }
        throw BackupError.noSource(detail: "no reachable primary")
    }

    private func waitForArchive(_ primary: NodeConfig, within limit: Duration = .seconds(60)) async throws {
        let clock = ContinuousClock()
        let deadline = clock.now + limit
        while clock.now < deadline {
            let done = try await PGConnection.withSession(node: primary.name, conninfo: primary.conninfo) { session in
                try await session.query("SELECT last_archived_wal >= pg_walfile_name(pg_current_wal_lsn() - 1) AS done FROM pg_stat_archiver")
                    .single().optionalBool("done") ?? false
            }
            if done { return }
            try await Task.sleep(for: .milliseconds(200))
        }
        throw BackupError.refused("the restore point's WAL was not archived within \(limit): is archive_command set to `drctl wal-push`?")
    }
}
