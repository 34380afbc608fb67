import DRCore
import DRSystem
import Foundation

/// Proves a backup can be used: every file re-hashed against its manifest, a logical dump's
/// table of contents read by `pg_restore --list`, and for a base backup the WAL it needs
/// present in the archive. Records `verified_at` in the manifest when all of it holds.
public struct BackupVerifier: Sendable {
    public let repository: BackupRepository

    public init(repository: BackupRepository) { self.repository = repository }

    /// Checks the checksum only: what a restore does before it touches anything.
    public func checkChecksum(_ manifest: BackupManifest) throws {
        let file = "\(repository.directory(of: manifest.id))/\(manifest.path)"
        guard FileManager.default.fileExists(atPath: file) else {
            throw BackupError.io(path: file, detail: "missing: backup \(manifest.id) is incomplete")
        }
        let found = try BackupRepository.sha256(of: file)
        guard found == manifest.sha256 else {
            throw BackupError.checksumMismatch(id: manifest.id, file: file, expected: manifest.sha256, found: found)
        }
    }

    @discardableResult
    public func verify(_ manifest: BackupManifest, archive: WALArchive? = nil) async throws -> BackupManifest {
        try checkChecksum(manifest)
        let file = "\(repository.directory(of: manifest.id))/\(manifest.path)"
        switch manifest.kind {
        case .logical:
            let list = try await CommandRunner.run([try PostgresBinaries.binary("pg_restore"), "--list", file], check: false)
            guard list.status == 0, list.stdout.contains("TOC Entries") else {
                throw BackupError.commandFailed(what: "pg_restore --list of backup \(manifest.id)", status: list.status,
                                                output: list.stderr.trimmingCharacters(in: .whitespacesAndNewlines))
            }
        case .base:
            guard let archive, let start = manifest.startLSN, let stop = manifest.stopLSN, let timeline = manifest.timeline else {
                throw BackupError.refused("backup \(manifest.id): a base backup is verified against the WAL archive, which is not configured")
            }
            let missing = archive.missingSegments(timeline: timeline, from: start, through: stop)
            guard missing.isEmpty else {
                throw BackupError.refused("backup \(manifest.id) cannot be restored: the WAL archive lacks \(missing.joined(separator: ", "))")
            }
        }
        var verified = manifest
        verified.verifiedAt = ISO8601DateFormatter().string(from: Date())
        try repository.write(verified)
        return verified
    }
}
