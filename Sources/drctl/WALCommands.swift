import ArgumentParser
import DRBackup
import DRCore
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
        let (_, config) = try options.loadConfig()
        do {
            let compression = config.backup?.compression ?? BackupCompression()
            _ = try await WALArchive(repository: try BackupCommand.repository(config), compression: compression).push(path: path, name: name)
        } catch let error as CLIExit {
            throw error
        } catch {
            throw CLIExit.failed("\(error)")
        }
    }
}

/// `restore_command = 'drctl wal-fetch %f %p --config FILE'`: exit 1 when the file is not
/// archived, which ends recovery there.
struct WALFetchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "wal-fetch", abstract: "restore_command: copy an archived WAL file out, after checking its checksum.")
    @OptionGroup var options: GlobalOptions
    @Argument(help: "The file's name (%f).") var name: String
    @Argument(help: "Where to put it (%p).") var path: String

    func run() async throws {
        let (_, config) = try options.loadConfig()
        do {
            guard try await WALArchive(repository: try BackupCommand.repository(config)).fetch(name: name, to: path) else { throw CLIExit.unhealthy }
        } catch let error as CLIExit {
            throw error
        } catch {
            throw CLIExit.failed("\(error)")
        }
    }
}
