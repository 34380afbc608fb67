import ArgumentParser
import DRBackup
import DRCommandLine
import DRCore
import DRSystem
import Foundation

/// `archive_command = 'drctl wal-push %p %f --config FILE'`: exit 0 only once the segment
/// is durably in the archive (PostgreSQL then recycles it), non-zero otherwise (it retries).
struct WALPushCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "wal-push", abstract: "archive_command: store a WAL file in the repository's archive (atomic, checksummed, idempotent).")
    @OptionGroup var options: GlobalOptions
    @Argument(help: "The file's path (%p).") var path: String
    @Argument(help: "The file's name (%f).") var name: String

    func run() async throws {
        let (file, config) = try options.loadConfig()
        do {
            let compression = config.backup?.compression ?? BackupCompression()
            let archive = WALArchive(repository: try BackupCommand.repository(config), compression: compression)
            if let backup = config.backup, backup.archiveAsync {
                // %p is relative to the data directory, archive_command's working directory.
                let absolute = path.hasPrefix("/") ? path : FileManager.default.currentDirectoryPath + "/" + path
                let pgWal = (absolute as NSString).deletingLastPathComponent
                let spooler = AsyncArchiver(
                    archive: archive, spool: backup.archiveSpool ?? AsyncArchiver.defaultSpool(cluster: config.cluster), workers: backup.archiveWorkers)
                let configFile = URL(fileURLWithPath: file).standardizedFileURL.path
                let outcome = try await spooler.waitFor(segment: name) {
                    let binary = CommandMain.executable
                    _ = try ProcessControl.spawnDaemon([binary, "wal-pusher", "--pg-wal", pgWal, "--config", configFile], logFile: spooler.spool + "/pusher.log")
                }
                switch outcome {
                case .archived: return
                case .failed(let why): throw CLIExit.failed("wal-push \(name) (asynchronous): \(why)")
                case .timedOut: throw CLIExit.failed("wal-push \(name) (asynchronous): not archived within \(spooler.wait); see \(spooler.spool)/pusher.log")
                }
            }
            _ = try await archive.push(path: path, name: name)
        } catch let error as CLIExit {
            throw error
        } catch {
            throw CLIExit.failed("\(error)")
        }
    }
}

/// `restore_command = 'drctl wal-fetch %f %p --config FILE'`: exit 1 when the file is not
/// archived, which ends recovery there.
///
/// Any other failure — the repository unreachable after its retries, a checksum that does
/// not match, a key the config lacks, a config that does not load — is not "not archived".
/// PostgreSQL reads every exit below 126 as "not archived", so in archive recovery (a
/// restore, `region activate`, a drill) it would end recovery there and promote a copy
/// short of the archive. Exit 128 makes it stop recovery instead (FATAL; 126 and 127 would
/// read "not executable" and "not found" in its log), leaving the data directory as it
/// was: start it again once the repository answers and recovery goes on. A standby
/// (restore_command runs in the data directory, where its `standby.signal` is) only falls
/// back to streaming and asks again later: for it, exit 1, never a stopped standby over a
/// repository's bad minute.
struct WALFetchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "wal-fetch", abstract: "restore_command: copy an archived WAL file out, after checking its checksum.")
    @OptionGroup var options: GlobalOptions
    @Argument(help: "The file's name (%f).") var name: String
    @Argument(help: "Where to put it (%p).") var path: String

    /// The exit code that makes PostgreSQL stop recovery rather than end it.
    static let stopRecovery: Int32 = 128

    func run() async throws {
        do {
            let (file, config) = try options.loadConfig()
            let archive = WALArchive(repository: try BackupCommand.repository(config), compression: config.backup?.compression ?? BackupCompression())
            let dataDirectory = FileManager.default.currentDirectoryPath
            let ahead = config.backup?.fetchAhead ?? 0
            guard ahead > 0, WALPrefetcher.isSegment(name), FileManager.default.fileExists(atPath: dataDirectory + "/pg_wal") else {
                guard try await archive.fetch(name: name, to: path) else { throw CLIExit.unhealthy }
                return
            }
            let prefetcher = WALPrefetcher(archive: archive, dataDirectory: dataDirectory, ahead: ahead)
            let found = prefetcher.take(name, to: path) ? true : try await archive.fetch(name: name, to: path)
            guard found else {
                prefetcher.clear()
                throw CLIExit.unhealthy
            }
            // Fetching ahead only speeds recovery up: if it cannot start, recovery goes on.
            let size = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? UInt64) ?? nil
            try? prefetcher.requested(name, segmentSize: size ?? 16 << 20) {
                let binary = CommandMain.executable
                let configFile = URL(fileURLWithPath: file).standardizedFileURL.path
                _ = try ProcessControl.spawnDaemon(
                    [binary, "wal-prefetcher", "--data-directory", dataDirectory, "--config", configFile], logFile: prefetcher.spool + "/prefetcher.log")
            }
        } catch let error as CLIExit where error.code == 1 && error.message.isEmpty {
            throw error
        } catch {
            let message = (error as? CLIExit)?.message ?? "\(error)"
            if FileManager.default.fileExists(atPath: "standby.signal") {
                throw CLIExit.failed("wal-fetch \(name): \(message) (a standby: PostgreSQL streams meanwhile and asks again)")
            }
            throw CLIExit(
                code: Self.stopRecovery,
                message: "wal-fetch \(name): \(message). Recovery is stopped here rather than ended short of the archive: "
                    + "mend the repository (or the config), then start the server again and recovery goes on")
        }
    }
}

/// The background pusher `wal-push` starts with `backup.archive_async` (not for direct use).
struct WALPusherCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "wal-pusher", abstract: "Asynchronous archiving's background pusher (started by wal-push).", shouldDisplay: false)
    @OptionGroup var options: GlobalOptions
    @Option(name: .customLong("pg-wal"), help: "The server's pg_wal directory.") var pgWal: String

    func run() async throws {
        let (_, config) = try options.loadConfig()
        guard let backup = config.backup else { throw CLIExit.badInput("the config has no `backup` section") }
        let archive = WALArchive(repository: try BackupCommand.repository(config), compression: backup.compression)
        await AsyncArchiver(archive: archive, spool: backup.archiveSpool ?? AsyncArchiver.defaultSpool(cluster: config.cluster), workers: backup.archiveWorkers)
            .push(from: pgWal)
    }
}

/// The background prefetcher `wal-fetch` starts with `backup.fetch_ahead` (not for direct use).
struct WALPrefetcherCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "wal-prefetcher", abstract: "Recovery's background WAL prefetcher (started by wal-fetch).", shouldDisplay: false)
    @OptionGroup var options: GlobalOptions
    @Option(name: .customLong("data-directory"), help: "The recovering server's data directory.") var dataDirectory: String

    func run() async throws {
        let (_, config) = try options.loadConfig()
        guard let backup = config.backup else { throw CLIExit.badInput("the config has no `backup` section") }
        let archive = WALArchive(repository: try BackupCommand.repository(config), compression: backup.compression)
        await WALPrefetcher(archive: archive, dataDirectory: dataDirectory, ahead: backup.fetchAhead).run()
    }
}
