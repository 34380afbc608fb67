import DRCore
import DRSystem
import Foundation

/// `pg_dump -Fc` of one database into the repository, hashed with SHA-256 as it streams
/// by, so the checksum costs no second read; the manifest is written last.
public struct LogicalBackup: Sendable {
    public let config: ClusterConfig
    public let repository: BackupRepository

    public init(config: ClusterConfig, repository: BackupRepository) {
        self.config = config
        self.repository = repository
    }

    public func run(database: String, source: BackupSource, showProgress: Bool = true) async throws -> BackupManifest {
        let conninfo = source.node.connection.rendered(overriding: ["dbname": database])
        return try await StreamedBackup(config: config, repository: repository).capture(
            kind: .logical, label: database, file: "\(database).dump", database: database, source: source,
            command: [try PostgresBinaries.binary("pg_dump"), "-Fc", "-d", conninfo], what: "pg_dump \(database)", showProgress: showProgress)
    }
}

/// What every backup kind shares: a program's output streamed into a new backup's object
/// through a hashing upload, committed whole, then the manifest; on any failure the upload
/// is aborted and whatever was written goes, so a backup either exists whole or not at all.
struct StreamedBackup: Sendable {
    let config: ClusterConfig
    let repository: BackupRepository

    func capture(
        kind: BackupManifest.Kind, label: String, file: String, database: String?, source: BackupSource, command: [String],
        what: String, showProgress: Bool, compression: String? = nil
    ) async throws -> BackupManifest {
        let positionDatabase = database ?? source.node.connection.parameters["dbname"] ?? "postgres"
        let start = try await source.position(database: positionDatabase)
        let startedAt = Date()
        let id = try await repository.create(kind: kind, label: label, at: startedAt)
        let key = repository.keyring?.current
        let file = key == nil ? file : file + ".enc"
        let upload = try await repository.objects.upload(repository.key(id, file))
        do {
            let sink = HashingUpload(
                upload, sealer: try key.map { try StreamSealer(key: $0) },
                progress: ProgressMeter(label: "\(what) from \(source.node.name)", enabled: showProgress && isatty(STDERR_FILENO) == 1))
            let result = try await StreamingCommand.run(command) { chunk in try sink.write(chunk) }
            guard result.status == 0 else {
                throw BackupError.commandFailed(
                    what: "\(what) on \(source.node.name)", status: result.status,
                    output: result.stderr.trimmingCharacters(in: .whitespacesAndNewlines))
            }
            let (size, sha256) = try sink.finish()
            try await upload.finish()
            let stop = try await source.position(database: positionDatabase)
            var manifest = BackupManifest(
                id: id, kind: kind, cluster: config.cluster, database: database, path: file, size: size, sha256: sha256,
                startedAt: UTCTime.iso8601(startedAt), finishedAt: UTCTime.iso8601(Date()),
                startLSN: start.lsn, stopLSN: stop.lsn, timeline: start.timeline, region: repository.region, sourceNode: source.node.name,
                postgresVersion: start.version)
            manifest.compression = compression
            if let key {
                manifest.encryption = "aes-256-gcm"
                manifest.keyID = key.id
            }
            try await repository.write(manifest)
            return manifest
        } catch {
            await upload.abort()
            try? await repository.remove(id)
            throw error
        }
    }
}

/// Seals (when a key is set), hashes and counts a stream on its way into an upload (one
/// producer thread). The checksum and size are of the stored bytes.
final class HashingUpload: @unchecked Sendable {
    private let upload: any ObjectUpload
    private let sealer: StreamSealer?
    private var digest: FileDigest? = FileDigest()
    private var size: UInt64 = 0
    private let progress: ProgressMeter

    init(_ upload: any ObjectUpload, sealer: StreamSealer? = nil, progress: ProgressMeter) {
        self.upload = upload
        self.sealer = sealer
        self.progress = progress
    }

    func write(_ chunk: UnsafeRawBufferPointer) throws {
        if let sealer { try store(try sealer.update(chunk)) } else { try store(chunk) }
        progress.advance(by: chunk.count)
    }

    private func store(_ bytes: [UInt8]) throws { try bytes.withUnsafeBytes { if $0.count > 0 { try store($0) } } }

    private func store(_ chunk: UnsafeRawBufferPointer) throws {
        digest!.update(chunk)
        size += UInt64(chunk.count)
        try upload.write(chunk)
    }

    /// The size and hex SHA-256 of everything stored.
    func finish() throws -> (size: UInt64, sha256: String) {
        if let sealer { try store(try sealer.finish()) }
        progress.finish()
        return (size, digest.take()?.finish() ?? "")
    }
}
