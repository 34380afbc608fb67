import DRCore
import Foundation

/// The WAL archive in the repository (`REPOSITORY/CLUSTER/wal/`), written by `drctl
/// wal-push` from `archive_command` and read by `drctl wal-fetch` from `restore_command`.
/// Each segment is stored atomically with its SHA-256 beside it; pushing identical
/// content again succeeds (PostgreSQL retries), different content under the same name is
/// refused (two timelines must never overwrite each other's WAL).
public struct WALArchive: Sendable {
    public let directory: String
    let repository: BackupRepository

    public init(repository: BackupRepository) {
        self.repository = repository
        directory = "\(repository.clusterDirectory)/wal"
    }

    public enum PushOutcome: Sendable, Equatable { case stored, alreadyArchived }

    public func push(path: String, name: String) throws -> PushOutcome {
        guard Self.isValidName(name) else { throw BackupError.refused("wal-push: \"\(name)\" is not a WAL file name") }
        guard let data = FileManager.default.contents(atPath: path) else { throw BackupError.io(path: path, detail: "cannot read") }
        try repository.ensureDirectory(directory)
        let target = "\(directory)/\(name)"
        var digest = FileDigest()
        digest.update(data)
        let sum = digest.finish()
        if let existing = FileManager.default.contents(atPath: target) {
            var old = FileDigest()
            old.update(existing)
            if old.finish() == sum { return .alreadyArchived }
            throw BackupError.refused("wal-push: \(name) is already archived with different content; refusing to overwrite it (two primaries on one timeline?)")
        }
        // The checksum first: a segment is only ever visible with the sum that guards it.
        try AtomicFile.write(Data("\(sum)  \(name)\n".utf8), to: target + ".sha256")
        try AtomicFile.write(data, to: target)
        repository.adoptOwnership(target + ".sha256")
        repository.adoptOwnership(target)
        return .stored
    }

    /// Copies `name` to `path` after checking its checksum; false when it is not archived
    /// (restore_command must then fail so that recovery ends there).
    public func fetch(name: String, to path: String) throws -> Bool {
        let source = "\(directory)/\(name)"
        guard let data = FileManager.default.contents(atPath: source) else { return false }
        if let expected = (try? String(contentsOfFile: source + ".sha256", encoding: .utf8))?.split(separator: " ").first {
            var digest = FileDigest()
            digest.update(data)
            let found = digest.finish()
            guard found == String(expected) else {
                throw BackupError.checksumMismatch(id: "wal", file: source, expected: String(expected), found: found)
            }
        }
        try AtomicFile.write(data, to: path)
        return true
    }

    /// Timeline history files and partial/backup-label files are names too.
    static func isValidName(_ name: String) -> Bool {
        !name.isEmpty && !name.contains("/") && name.allSatisfy { $0.isHexDigit || $0 == "." || $0.isLetter }
    }

    /// 16 MiB segments from `start` to `stop` on `timeline` that are not in the archive.
    public func missingSegments(timeline: Int, from start: LSN, through stop: LSN, segmentSize: UInt64 = 16 << 20) -> [String] {
        var missing: [String] = []
        var segment = start.value / segmentSize
        while segment <= stop.value / segmentSize {
            let name = String(format: "%08X%08X%08X", timeline, UInt32(segment / 0x100), UInt32(segment % 0x100))
            if !FileManager.default.fileExists(atPath: "\(directory)/\(name)") { missing.append(name) }
            segment += 1
        }
        return missing
    }
}
