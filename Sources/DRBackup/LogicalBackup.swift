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

/// What every backup kind shares: a program's output streamed into a new backup directory
/// through a hashing sink, committed atomically, then the manifest; on any failure the
/// directory goes, so a backup either exists whole or not at all.
struct StreamedBackup: Sendable {
    let config: ClusterConfig
    let repository: BackupRepository

    func capture(
        kind: BackupManifest.Kind, label: String, file: String, database: String?, source: BackupSource, command: [String],
        what: String, showProgress: Bool
    ) async throws -> BackupManifest {
        let positionDatabase = database ?? source.node.connection.parameters["dbname"] ?? "postgres"
        let start = try await source.position(database: positionDatabase)
        let startedAt = Date()
        let id = try repository.create(kind: kind, label: label, at: startedAt)
        let directory = repository.directory(of: id)
        let partial = "\(directory)/\(file).partial"
        do {
            let sink = try StreamSink(path: partial, progress: ProgressMeter(label: "\(what) from \(source.node.name)", enabled: showProgress && isatty(STDERR_FILENO) == 1))
            let result = try await StreamingCommand.run(command) { chunk in try sink.write(chunk) }
            let (size, sha256) = try sink.close()
            guard result.status == 0 else {
                throw BackupError.commandFailed(
                    what: "\(what) on \(source.node.name)", status: result.status,
                    output: result.stderr.trimmingCharacters(in: .whitespacesAndNewlines))
            }
            try AtomicFile.commit(partial, to: "\(directory)/\(file)")
            repository.adoptOwnership("\(directory)/\(file)")
            let stop = try await source.position(database: positionDatabase)
            let manifest = BackupManifest(
                id: id, kind: kind, cluster: config.cluster, database: database, path: file, size: size, sha256: sha256,
                startedAt: ISO8601DateFormatter().string(from: startedAt), finishedAt: ISO8601DateFormatter().string(from: Date()),
                startLSN: start.lsn, stopLSN: stop.lsn, timeline: start.timeline, region: repository.region, sourceNode: source.node.name,
                postgresVersion: start.version)
            try repository.write(manifest)
            return manifest
        } catch {
            try? FileManager.default.removeItem(atPath: directory)
            throw error
        }
    }
}

/// The file a stream is written to, hashed on the way (used by one reading thread).
final class StreamSink: @unchecked Sendable {
    private let fd: Int32
    private let path: String
    private var digest: FileDigest? = FileDigest()
    private var size: UInt64 = 0
    private let progress: ProgressMeter

    init(path: String, progress: ProgressMeter) throws {
        fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0o600)
        guard fd >= 0 else { throw BackupError.io(path: path, detail: String(cString: strerror(errno))) }
        self.path = path
        self.progress = progress
    }

    func write(_ chunk: UnsafeRawBufferPointer) throws {
        var offset = 0
        while offset < chunk.count {
            let n = Foundation.write(fd, chunk.baseAddress! + offset, chunk.count - offset)
            if n < 0 { if errno == EINTR { continue }; throw BackupError.io(path: path, detail: String(cString: strerror(errno))) }
            offset += n
        }
        digest!.update(chunk)
        size += UInt64(chunk.count)
        progress.advance(by: chunk.count)
    }

    /// Flushes to disk; returns the size and the hex SHA-256.
    func close() throws -> (UInt64, String) {
        defer { Foundation.close(fd) }
        guard fsync(fd) == 0 else { throw BackupError.io(path: path, detail: String(cString: strerror(errno))) }
        progress.finish()
        guard let finished = digest.take() else { throw BackupError.io(path: path, detail: "closed twice") }
        return (size, finished.finish())
    }
}
