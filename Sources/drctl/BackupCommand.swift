import ArgumentParser
import DRBackup
import DRCommandLine
import DRCore
import Foundation

struct BackupCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "backup", abstract: "Backups in the repository: take, list, verify, prune, mark a restore point.",
        subcommands: [BackupRunCommand.self, BackupListCommand.self, BackupVerifyCommand.self, BackupPruneCommand.self, BackupMarkCommand.self])

    /// The repository of `config`, or a clear error when the config has no `backup` section.
    static func repository(_ config: ClusterConfig) throws -> BackupRepository {
        guard config.backup != nil else {
            throw CLIExit.badInput("the config has no `backup` section (repository, repository_region, allowed_regions)")
        }
        do { return try BackupRepository(config: config) } catch { throw CLIExit.failed("\(error)") }
    }
}

struct BackupRunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run", abstract: "Take a backup now: logical (pg_dump -Fc per database) from a healthy standby when one exists, or base (pg_basebackup).")

    @OptionGroup var options: GlobalOptions

    @Option(name: .long, help: "logical or base.")
    var kind: String = "logical"

    @Option(name: .long, help: "The database to dump (logical; default: backup.databases, else the conninfo's).")
    var database: String?

    func run() async throws {
        let (_, config) = try options.loadConfig()
        let repository = try BackupCommand.repository(config)
        guard let kind = BackupManifest.Kind(rawValue: kind) else { throw CLIExit.badInput("--kind: expected logical or base, found \"\(kind)\"") }
        do {
            let source = try await BackupSource.choose(config)
            var taken: [BackupManifest] = []
            switch kind {
            case .logical:
                let fallback = source.node.connection.parameters["dbname"] ?? "postgres"
                let databases = database.map { [$0] } ?? (config.backup?.databases.isEmpty == false ? config.backup!.databases : [fallback])
                for name in databases {
                    taken.append(try await LogicalBackup(config: config, repository: repository).run(database: name, source: source, showProgress: !options.json))
                }
            case .base:
                taken.append(try await BaseBackup(config: config, repository: repository).run(source: source, showProgress: !options.json))
            }
            if options.json { return try JSONOutput.print(taken) }
            for manifest in taken {
                print("backup \(manifest.id): \(manifest.kind.rawValue) \(manifest.database ?? "instance") from \(manifest.sourceNode), \(manifest.size) bytes, sha256 \(manifest.sha256)")
            }
        } catch let error as CLIExit {
            throw error
        } catch {
            throw CLIExit.failed("\(error)")
        }
    }
}

struct BackupListCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "The backups in the repository, oldest first.")
    @OptionGroup var options: GlobalOptions

    func run() async throws {
        let (_, config) = try options.loadConfig()
        let backups: [BackupManifest]
        let repository = try BackupCommand.repository(config)
        do { backups = try await repository.list() } catch { throw CLIExit.failed("\(error)") }
        if options.json { return try JSONOutput.print(backups) }
        if backups.isEmpty { return print("no backups yet in \(repository.location)") }
        print(
            TextTable.render(
                ["ID", "KIND", "DATABASE", "SIZE", "FINISHED", "SOURCE", "VERIFIED"],
                backups.map { b in
                    [b.id, b.kind.rawValue, b.database ?? "-", String(b.size), b.finishedAt, b.sourceNode, b.verifiedAt ?? "never"]
                }))
    }
}

struct BackupVerifyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract:
            "Re-hash a backup's files, read a dump's table of contents, check a base backup's WAL; all backups without an ID. --archive: also every archived WAL file's checksum and every hole a restore would stop at. Exit 1 on any damage."
    )
    @OptionGroup var options: GlobalOptions

    @Argument(help: "The backup (default: every backup).")
    var id: String?

    @Flag(name: .long, help: "Also verify the WAL archive: each file against its checksum, and no segment missing from any base backup's start to the archive's end.")
    var archive = false

    func run() async throws {
        let (_, config) = try options.loadConfig()
        let repository = try BackupCommand.repository(config)
        let verifier = BackupVerifier(repository: repository)
        var failures: [String] = []
        do {
            let targets = if let id { [try await repository.manifest(id)] } else { try await repository.list() }
            for manifest in targets {
                do {
                    try await verifier.verify(manifest)
                    print("\(manifest.id): ok")
                } catch {
                    failures.append("\(error)")
                    print("\(manifest.id): FAILED: \(error)")
                }
            }
            if archive { failures += try await verifyArchive(repository) }
        } catch {
            throw CLIExit.failed("\(error)")
        }
        if !failures.isEmpty { throw CLIExit.failed("\(failures.count) problem(s) found in the repository") }
    }

    /// Every archived file against its checksum, and the holes a restore would stop at.
    func verifyArchive(_ repository: BackupRepository) async throws -> [String] {
        let wal = WALArchive(repository: repository)
        let names = try await wal.names()
        var problems: [String] = []
        for name in names {
            if let damage = try await wal.damage(of: name) { problems.append(damage) }
        }
        let gaps = try await wal.gaps(from: try await repository.list())
        problems += gaps.map { "a restore stops here: \($0)" }
        for problem in problems { print("wal: FAILED: \(problem)") }
        if problems.isEmpty { print("wal: ok (\(names.count) file(s), no hole from the oldest base backup's start to the archive's end)") }
        return problems
    }
}

struct BackupPruneCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "prune",
        abstract:
            "Remove the backups backup.retention does not keep (base backups and each database's dumps counted apart; never the newest valid base backup), expire the WAL no kept base backup needs, abort abandoned uploads; --dry-run shows them."
    )
    @OptionGroup var options: GlobalOptions
    @OptionGroup var change: ChangeOptions
    @Option(
        name: .customLong("abandoned-after"),
        help: "An unfinished upload (a killed backup's) started longer ago than this is aborted (keep it above your longest backup).")
    var abandonedAfter = "24h"

    func run() async throws {
        let (_, config) = try options.loadConfig()
        guard let age = DurationText.parse(abandonedAfter), age > .zero else {
            throw CLIExit.badInput("--abandoned-after \(abandonedAfter): expected a duration such as 30m or 24h")
        }
        let repository = try BackupCommand.repository(config)
        let archive = WALArchive(repository: repository)
        let backups: [BackupManifest]
        let abandoned: [AbandonedUpload]
        let wal: [String]
        do {
            backups = try await repository.list()
            abandoned = try await repository.objects.abandonedUploads(olderThan: age)
            wal = try await archive.names()
        } catch { throw CLIExit.failed("\(error)") }
        let plan = (config.backup?.retention ?? RepositoryRetention()).plan(backups.map(Self.retained), wal: wal, now: Int64(Date().timeIntervalSince1970))
        if plan.remove.isEmpty && abandoned.isEmpty && plan.expireWAL.isEmpty {
            return print("nothing to prune: all \(backups.count) backup(s) and \(wal.count) archived WAL file(s) are kept")
        }
        let kinds = Dictionary(backups.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
        var lines = plan.remove.map { id in "remove \(id)" + (kinds[id]?.damage.map { " (damaged: \($0))" } ?? "") }
        if let first = plan.expireWAL.first, let last = plan.expireWAL.last {
            lines.append("expire \(plan.expireWAL.count) WAL file(s) \(first) … \(last): no kept base backup needs them (kept from segment \(plan.walKeptFrom ?? "?"), timeline histories always)")
        }
        lines += abandoned.map { "abort  unfinished upload \($0.key) (started \(UTCTime.iso8601($0.started)))" }
        lines += plan.keep.sorted { $0.key < $1.key }.map { "keep   \($0.key) (\($0.value))" }
        let question = [
            plan.remove.isEmpty ? nil : "remove \(plan.remove.count) backup(s)", plan.expireWAL.isEmpty ? nil : "expire \(plan.expireWAL.count) WAL file(s)",
            abandoned.isEmpty ? nil : "abort \(abandoned.count) upload(s)",
        ].compactMap { $0 }.joined(separator: " and ")
        guard try change.proceed(lines.joined(separator: "\n"), question: question.prefix(1).uppercased() + question.dropFirst() + "?", cluster: config.cluster) else {
            return
        }
        for upload in abandoned {
            do { try await repository.objects.abort(upload) } catch { throw CLIExit.failed("aborting the upload of \(upload.key): \(error)") }
            print("aborted the unfinished upload of \(upload.key)")
        }
        for id in plan.remove {
            do { try await repository.remove(id) } catch { throw CLIExit.failed("removing \(id): \(error)") }
            print("removed \(id)")
        }
        if !plan.expireWAL.isEmpty {
            do { try await archive.expire(plan.expireWAL) } catch { throw CLIExit.failed("expiring WAL: \(error)") }
            print("expired \(plan.expireWAL.count) WAL file(s) older than segment \(plan.walKeptFrom ?? "?")")
        }
    }

    /// A manifest as retention sees it: a damaged one is no valid backup.
    static func retained(_ b: BackupManifest) -> RepositoryRetention.Backup {
        RepositoryRetention.Backup(
            id: b.id, kind: b.kind, database: b.database, finishedAt: Int64(UTCTime.parse(b.finishedAt)?.timeIntervalSince1970 ?? 0),
            valid: b.damage == nil, startLSN: b.startLSN)
    }
}
