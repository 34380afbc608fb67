import ArgumentParser
import DRBackup
import DRCommandLine
import DRCore
import Foundation

struct RestoreCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "restore",
        abstract:
            "Build and start a new instance from a backup: the latest, or a point in time (--target-time / --target-lsn / --target-xid / --target-name / --target-immediate, from a base backup and the WAL archive)."
    )

    @OptionGroup var options: GlobalOptions

    @Option(name: .long, help: "The new instance's data directory (must not exist or be empty).")
    var to: String

    @Flag(name: .long, help: "The newest backup (with --kind, of that kind).")
    var latest = false

    @Option(name: .long, help: "Recover to this time (e.g. 2026-11-23T08:00:00Z).")
    var targetTime: String?

    @Option(name: .long, help: "Recover to this WAL position (e.g. 0/3000060).")
    var targetLsn: String?

    @Option(name: .long, help: "Recover to just after this transaction id commits.")
    var targetXid: String?

    @Option(name: .long, help: "Recover to this restore point (made with `drctl backup mark NAME`).")
    var targetName: String?

    @Flag(name: .long, help: "Recover only to the end of the base backup (the earliest consistent state).")
    var targetImmediate = false

    @Option(name: .long, help: "The timeline to recover along: latest (default), current, or a number.")
    var targetTimeline: String?

    @Option(name: .long, help: "At the target: promote (default), pause (read-only, in recovery; pg_wal_replay_resume() promotes), or shutdown.")
    var targetAction: String = "promote"

    @Option(name: .long, help: "logical or base (with --latest).")
    var kind: String?

    @Option(name: .long, help: "A specific backup id.")
    var backup: String?

    @Option(name: .long, help: "Port of the restored instance on 127.0.0.1.")
    var port: Int = 55432

    func run() async throws {
        let (file, config) = try options.loadConfig()
        let targets = [latest, targetTime != nil, targetLsn != nil, targetXid != nil, targetName != nil, targetImmediate].filter { $0 }.count
        guard targets == 1 else {
            throw CLIExit.badInput("give exactly one of --latest, --target-time T, --target-lsn L, --target-xid X, --target-name N, --target-immediate")
        }
        guard let action = Restore.TargetAction(rawValue: targetAction) else {
            throw CLIExit.badInput("--target-action: expected promote, pause or shutdown, found \"\(targetAction)\"")
        }
        if let targetTimeline, !["latest", "current"].contains(targetTimeline), Int(targetTimeline) == nil {
            throw CLIExit.badInput("--target-timeline: expected latest, current or a timeline number, found \"\(targetTimeline)\"")
        }
        var target = Restore.Target.latest
        if let targetTime { target = .time(targetTime) }
        if let targetXid {
            guard UInt64(targetXid) != nil else { throw CLIExit.badInput("--target-xid: expected a transaction id (a number), found \"\(targetXid)\"") }
            target = .xid(targetXid)
        }
        if let targetName { target = .name(targetName) }
        if targetImmediate { target = .immediate }
        if let targetLsn {
            guard let lsn = LSN(targetLsn) else { throw CLIExit.badInput("--target-lsn: expected an LSN like 0/3000060, found \"\(targetLsn)\"") }
            target = .lsn(lsn)
        }
        var wantedKind: BackupManifest.Kind?
        if let kind {
            guard let parsed = BackupManifest.Kind(rawValue: kind) else { throw CLIExit.badInput("--kind: expected logical or base, found \"\(kind)\"") }
            wantedKind = parsed
        }
        let binary = CommandMain.executable
        let restore = Restore(
            repository: try BackupCommand.repository(config), drctl: binary,
            configFile: URL(fileURLWithPath: file).standardizedFileURL.path)
        do {
            let chosen = try await restore.choose(target, kind: wantedKind, id: backup)
            print("restoring \(chosen.id) (\(chosen.kind.rawValue), finished \(chosen.finishedAt)) into \(to) on port \(port)")
            let instance = try await restore.run(
                chosen, target: target, to: URL(fileURLWithPath: to).standardizedFileURL.path, port: port, showProgress: !options.json,
                timeline: targetTimeline, action: action)
            // backup.validation describes a usable, promoted copy: not a paused or stopped one.
            switch action {
            case .shutdown: return print("recovered to the target and stopped, as asked: start it with pg_ctl -D \(instance.dataDir) start")
            case .pause:
                return print(
                    "recovered to the target and paused there, read-only (backup.validation not run): \(instance.conninfo)\n"
                        + "SELECT pg_wal_replay_resume() promotes it; stop it with: pg_ctl -D \(instance.dataDir) stop")
            case .promote: break
            }
            let checks = await ValidationQueries.run(config.backup?.validation ?? [], conninfo: instance.conninfo)
            let failed = checks.filter { !$0.passed }
            if options.json {
                try JSONOutput.print([
                    "backup": chosen.id, "data_dir": instance.dataDir, "conninfo": instance.conninfo,
                    "seconds": String(format: "%.2f", instance.seconds), "validation": failed.isEmpty ? "passed" : "failed",
                ])
            } else {
                print(
                    """
                    restored in \(String(format: "%.2f", instance.seconds))s and running: \(instance.conninfo)
                    stop it with: pg_ctl -D \(instance.dataDir) stop
                    """)
                for check in checks { print("  \(check.passed ? "✔" : "✘") \(check.sql) = \(check.got ?? "error") (expected \(check.expect))") }
            }
            if !failed.isEmpty { throw CLIExit.failed("the restored instance failed \(failed.count) of backup.validation's queries; it is left running for inspection") }
        } catch let error as BackupError {
            throw CLIExit.failed("\(error)")
        }
    }
}
