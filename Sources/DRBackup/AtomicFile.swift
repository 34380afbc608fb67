import DRSystem
import Foundation

/// Files the repository writes: `DurableFile`'s guarantees, with its failures reported as
/// the repository's own errors.
enum AtomicFile {
    static func write(_ data: Data, to path: String) throws {
        do { try DurableFile.write(data, to: path) } catch let failure as DurableFile.Failure { throw BackupError.io(path: failure.path, detail: failure.detail) }
    }

    /// Creates `path` only if nothing is there (see `DurableFile.create`).
    static func create(_ data: Data, at path: String) throws -> Bool {
        do { return try DurableFile.create(data, at: path) } catch let failure as DurableFile.Failure { throw BackupError.io(path: failure.path, detail: failure.detail) }
    }

    /// Renames a finished file into place and makes the rename durable.
    static func commit(_ temporary: String, to path: String) throws {
        do { try DurableFile.commit(temporary, to: path) } catch let failure as DurableFile.Failure { throw BackupError.io(path: failure.path, detail: failure.detail) }
    }
}

/// What went wrong with a backup, restore or the repository, for the operator.
public enum BackupError: Error, CustomStringConvertible, Sendable {
    case io(path: String, detail: String)
    case corruptManifest(path: String, detail: String)
    case checksumMismatch(id: String, file: String, expected: String, found: String)
    case noSuchBackup(id: String, repository: String)
    case noBackup(repository: String, what: String)
    case noSource(detail: String)
    case commandFailed(what: String, status: Int32, output: String)
    case refused(String)
    /// Recovery ended before the archive's end: a WAL fetch failed or the archive has a hole.
    case shortRecovery(dataDir: String, lastRestored: String, archiveEnd: String, missed: Int)
    /// Sealed bytes that do not authenticate under their key: damaged or tampered with.
    case unauthentic(what: String, detail: String)
    /// Sealed with a key the config does not have (not damage: add the key).
    case keyMissing(keyID: String, what: String, configured: [String])

    public var description: String {
        switch self {
        case let .io(path, detail): "\(path): \(detail)"
        case let .corruptManifest(path, detail): "corrupt manifest \(path): \(detail); move the backup aside or remove it"
        case let .checksumMismatch(id, file, expected, found):
            "backup \(id) is damaged: \(file) has SHA-256 \(found), its manifest says \(expected); do not restore it, use another backup"
        case let .noSuchBackup(id, repository): "no backup \(id) in \(repository) (`drctl backup list` shows them)"
        case let .noBackup(repository, what): "no \(what) in \(repository): take one with `drctl backup run`"
        case let .noSource(detail): "no node to back up from: \(detail)"
        case let .commandFailed(what, status, output): "\(what) exited \(status): \(output)"
        case .refused(let reason): reason
        case let .shortRecovery(dataDir, last, end, missed):
            "the restore is short: recovery stopped after WAL segment \(last), but the archive holds \(missed) later segment(s) on that timeline, up to \(end) "
                + "(a fetch failed or the archive has a hole); the instance in \(dataDir) was stopped, not handed out. "
                + "Check the archive (`drctl wal-fetch` of the next segment), then restore again; start it by hand only if a copy ending at \(last) is acceptable"
        case let .unauthentic(what, detail): "\(what) is damaged or was altered: \(detail); do not use it"
        case let .keyMissing(keyID, what, configured):
            "\(what) was encrypted with backup key \(keyID), which the config does not have (it has \(configured.joined(separator: ", "))); "
                + "add that key's file to backup.encryption.previous_key_files"
        }
    }
}
