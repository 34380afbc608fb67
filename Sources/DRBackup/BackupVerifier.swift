import DRCore
import DRSystem
import Foundation

/// Proves a backup can be used: every file re-hashed against its manifest, a logical dump's
/// table of contents read by `pg_restore --list`, and for a base backup its label and the
/// WAL it needs to be consistent present in its tar. Records `verified_at` in the manifest when all of it holds.
public struct BackupVerifier: Sendable {
    public let repository: BackupRepository

    public init(repository: BackupRepository) { self.repository = repository }

    /// Checks the checksum only, from wherever the repository is: what a restore does
    /// before it touches anything.
    public func checkChecksum(_ manifest: BackupManifest) async throws {
        let scratch = Self.scratchDirectory()
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        _ = try await repository.fetchChecked(manifest, scratch: scratch)
    }

    static func scratchDirectory() -> String { NSTemporaryDirectory() + "drctl-verify-\(UUID().uuidString)" }

    /// Verifies the backup and records the outcome in its manifest: `verified_at` when it
    /// holds, `damage` when its content is wrong. An error reaching the repository (a
    /// timeout, a 503) records nothing: it says nothing about the backup.
    @discardableResult
    public func verify(_ manifest: BackupManifest) async throws -> BackupManifest {
        do {
            return try await check(manifest)
        } catch let error as BackupError {
            switch error {
            case .checksumMismatch, .unauthentic, .refused, .commandFailed:
                var damaged = manifest
                damaged.damage = "\(error)"
                try? await repository.write(damaged)
            case .io(_, let detail) where detail.hasPrefix("missing"):
                var damaged = manifest
                damaged.damage = "\(error)"
                try? await repository.write(damaged)
            default: break
            }
            throw error
        }
    }

    private func check(_ manifest: BackupManifest) async throws -> BackupManifest {
        let scratch = Self.scratchDirectory()
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        let file = try await repository.fetchChecked(manifest, scratch: scratch)
        switch manifest.kind {
        case .logical:
            let list = try await CommandRunner.run([try PostgresBinaries.binary("pg_restore"), "--list", file], check: false)
            guard list.status == 0, list.stdout.contains("TOC Entries") else {
                throw BackupError.commandFailed(
                    what: "pg_restore --list of backup \(manifest.id)", status: list.status,
                    output: list.stderr.trimmingCharacters(in: .whitespacesAndNewlines))
            }
        case .base:
            // The WAL it needs to be consistent travels inside the tar (-X fetch): its label
            // names the first segment, which must be there.
            guard let segment = try await BaseBackup.startSegment(ofTar: file, decompression: manifest.tarDecompression) else {
                throw BackupError.refused("backup \(manifest.id) is not a usable base backup: no backup_label in \(file)")
            }
            let listing = try await CommandRunner.run(["tar"] + manifest.tarDecompression + ["-tf", file], check: false)
            guard listing.status == 0, listing.stdout.contains("pg_wal/\(segment)"), listing.stdout.contains("global/pg_control") else {
                throw BackupError.refused("backup \(manifest.id) lacks WAL segment \(segment) or pg_control: it cannot be restored")
            }
        }
        var verified = manifest
        verified.verifiedAt = UTCTime.iso8601(Date())
        verified.damage = nil
        try await repository.write(verified)
        return verified
    }
}
