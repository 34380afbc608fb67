import DRBackup
import DRCoordination
import DRCore
import DRDrill
import Foundation
import Logging
import ServiceLifecycle

/// Runs the config's scheduled backups and restore drills: every agent checks each job
/// every `pollInterval`, and the one that takes the job's etcd lock runs the occurrence.
/// Occurrences missed while no agent could run them are recorded and logged, not replayed.
/// It also keeps the backup and drill gauges current from the repository.
public struct JobScheduler: Service {
    let live: LiveConfig
    /// The configuration as last loaded (a reload replaces it between two polls).
    var config: ClusterConfig { live.value }
    let configFile: String
    let drctl: String
    let coordinator: EtcdCoordinator
    let holder: String
    let metrics: AgentMetrics
    /// Where the status page finds the repository's newest backups and drill reports.
    let board: AgentStateBoard?
    let notifier: any Notifier
    let log: Logger
    var pollInterval: Duration = .seconds(15)

    public init(
        config: LiveConfig, configFile: String, drctl: String, coordinator: EtcdCoordinator, holder: String, metrics: AgentMetrics,
        board: AgentStateBoard? = nil, notifier: any Notifier = SilentNotifier(), log: Logger
    ) {
        self.board = board
        self.notifier = notifier
        self.live = config
        self.configFile = configFile
        self.drctl = drctl
        self.coordinator = coordinator
        self.holder = holder
        self.metrics = metrics
        self.log = log
    }

    public func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                for job in config.schedules { await consider(job) }
                await reportRepository()
                try? await Task.sleep(for: pollInterval)
            }
        }
    }

    static var minuteNow: Int64 { Int64(Date().timeIntervalSince1970) / 60 }

    func consider(_ job: ScheduledJob) async {
        do {
            let last = try await coordinator.jobRecord(job.name)
            guard case .run(let minute, let missed) = job.due(now: Self.minuteNow, lastScheduledMinute: last?.scheduledMinute) else { return }
            let lease = try await coordinator.grantLease(ttl: .seconds(30))
            guard try await coordinator.tryLockJob(job.name, holder: holder, lease: lease) else {
                try? await coordinator.revoke(lease: lease)
                return
            }
            defer { Task { try? await coordinator.revoke(lease: lease) } }
            // Another agent may have run this occurrence just before the lock was free.
            if let latest = try await coordinator.jobRecord(job.name), latest.scheduledMinute >= minute { return }
            if !missed.isEmpty {
                log.warning("scheduled job missed occurrences", metadata: ["job": "\(job.name)", "missed": "\(missed.count)", "cron": "\(job.cron)"])
                metrics.jobMissed(job.name, count: missed.count)
                report(job, "missed \(missed.count) occurrence(s) while no agent could run it", key: "job-\(job.name)-missed-before-\(minute)")
            }
            var record = JobRun(job: job.name, scheduledMinute: minute, node: holder, startedAt: UTCTime.iso8601(Date()), missedMinutes: missed)
            try await coordinator.recordJob(record)
            let keepAlive = Task {
                while !Task.isCancelled {
                    try? await Task.sleep(for: .seconds(10))
                    _ = try? await coordinator.keepAlive(lease: lease)
                }
            }
            defer { keepAlive.cancel() }
            log.notice("scheduled job started", metadata: ["job": "\(job.name)", "occurrence": "\(minute)"])
            do {
                record.detail = try await perform(job)
                record.succeeded = true
            } catch {
                record.detail = "\(error)"
                record.succeeded = false
                log.error("scheduled job failed", metadata: ["job": "\(job.name)", "error": "\(error)"])
                report(job, "failed: \(error)", key: "job-\(job.name)-\(minute)")
            }
            record.finishedAt = UTCTime.iso8601(Date())
            try await coordinator.recordJob(record)
            metrics.jobFinished(job.name, succeeded: record.succeeded == true)
            log.notice("scheduled job finished", metadata: ["job": "\(job.name)", "succeeded": "\(record.succeeded == true)", "detail": "\(record.detail)"])
        } catch {
            log.warning("scheduler could not consider a job", metadata: ["job": "\(job.name)", "error": "\(error)"])
        }
    }

    /// A failed or missed backup or drill, for `notifications:` (one per occurrence).
    func report(_ job: ScheduledJob, _ what: String, key: String) {
        let kind: NotificationEvent.Kind
        switch job.action {
        case .backup: kind = .backupFailed
        case .drill: kind = .drillFailed
        }
        notifier.notify(
            NotificationEvent(
                kind: kind, severity: .error, cluster: config.cluster, node: holder, summary: "scheduled job \(job.name) \(what)", details: ["job": job.name, "cron": "\(job.cron)"],
                dedupKey: key))
    }

    func perform(_ job: ScheduledJob) async throws -> String {
        guard let backup = config.backup else { throw BackupError.refused("no backup repository configured") }
        let repository = try BackupRepository(config: config)
        switch job.action {
        case .backup(let kind):
            let source = try await BackupSource.choose(config)
            let manifest: BackupManifest
            switch kind {
            case .logical:
                let database = backup.databases.first ?? source.node.connection.parameters["dbname"] ?? "postgres"
                manifest = try await LogicalBackup(config: config, repository: repository).run(database: database, source: source, showProgress: false)
            case .base:
                manifest = try await BaseBackup(config: config, repository: repository).run(source: source, showProgress: false)
            }
            return "backup \(manifest.id), \(manifest.size) bytes"
        case .drill(let file):
            let path = file.hasPrefix("/") ? file : URL(fileURLWithPath: configFile).deletingLastPathComponent().appendingPathComponent(file).path
            let spec = try DrillLoader.load(yaml: try String(contentsOfFile: path, encoding: .utf8), file: path)
            guard spec.target != .lab else {
                throw BackupError.refused("drill \(spec.name) is a \(spec.kind.rawValue) drill against the lab: not for a schedule")
            }
            let outcome = try await DrillRunner(config: config, configFile: configFile, drctl: drctl).run(spec)
            guard outcome.report.passed else { throw BackupError.refused("drill \(spec.name) failed: \(outcome.report.failures.joined(separator: "; ")) (\(outcome.html))") }
            return "drill \(spec.name) passed, report \(outcome.html)"
        }
    }

    /// Backup and drill gauges from what the repository holds; for the status page, the
    /// same and the failover history.
    func reportRepository() async {
        var contents = board?.repository ?? RepositoryContents()
        defer { board?.publish(contents) }
        if board != nil, let history = try? await coordinator.history() { contents.failovers = history }
        guard config.backup != nil, let repository = try? BackupRepository(config: config) else { return }
        if let backups = try? await repository.list() {
            contents.backups = backups
            for kind in BackupManifest.Kind.allCases {
                guard let last = backups.last(where: { $0.kind == kind }) else { continue }
                let finished = UTCTime.parse(last.finishedAt), started = UTCTime.parse(last.startedAt)
                metrics.backup(
                    kind: kind.rawValue, finishedAt: finished?.timeIntervalSince1970,
                    seconds: finished.flatMap { f in started.map { f.timeIntervalSince($0) } }, bytes: last.size)
            }
        }
        if let drills = try? await DrillReports(repository: repository).list() {
            contents.drills = drills.map {
                StatusPageModel.Drill(id: $0.id, drill: $0.drill, startedAt: $0.startedAt, passed: $0.passed, rtoSeconds: $0.rtoSeconds, rpoSeconds: $0.rpoSeconds)
            }
            for drill in Set(drills.map(\.drill)) {
                guard let last = drills.last(where: { $0.drill == drill }) else { continue }
                metrics.drill(drill, passed: last.passed, rto: last.rtoSeconds, rpo: last.rpoSeconds)
            }
        }
    }
}
