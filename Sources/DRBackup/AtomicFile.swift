import Foundation

/// Files the repository writes: never half-written (a temporary file, fsync, rename, and
/// an fsync of the directory) and readable by their owner only.
enum AtomicFile {
    static func write(_ data: Data, to path: String) throws {
        let temporary = path + ".tmp-\(getpid())"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        guard fd >= 0 else { throw BackupError.io(path: temporary, detail: String(cString: strerror(errno))) }
        var failure: Int32 = 0
        data.withUnsafeBytes { buffer in
            var offset = 0
            while offset < buffer.count {
                let n = Foundation.write(fd, buffer.baseAddress! + offset, buffer.count - offset)
                if n < 0 { if errno == EINTR { continue }; failure = errno; return }
                offset += n
            }
        }
        if failure == 0, fsync(fd) != 0 { failure = errno }
        close(fd)
        guard failure == 0 else {
            unlink(temporary)
            throw BackupError.io(path: path, detail: String(cString: strerror(failure)))
        }
        try commit(temporary, to: path)
    }

    /// Renames a finished file into place and makes the rename durable.
    static func commit(_ temporary: String, to path: String) throws {
        guard rename(temporary, path) == 0 else { throw BackupError.io(path: path, detail: String(cString: strerror(errno))) }
        syncDirectory(of: path)
    }

    static func syncDirectory(of path: String) {
        let dir = (path as NSString).deletingLastPathComponent
        let fd = open(dir, O_RDONLY)
        if fd >= 0 { fsync(fd); close(fd) }
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
        }
    }
}
