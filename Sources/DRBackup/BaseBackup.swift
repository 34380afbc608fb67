import DRCore
import DRSystem
import Foundation

/// `pg_basebackup` of the whole instance as one tar streamed into the repository and hashed
/// on the way. `-X fetch` puts the WAL the backup needs to be consistent inside the tar;
/// the WAL archive takes it further, to a point in time.
public struct BaseBackup: Sendable {
    public let config: ClusterConfig
    public let repository: BackupRepository

    public init(config: ClusterConfig, repository: BackupRepository) {
        self.config = config
        self.repository = repository
    }

    public func run(source: BackupSource, showProgress: Bool = true) async throws -> BackupManifest {
        let database = source.node.connection.parameters["dbname"] ?? "postgres"
        let start = try await source.position(database: database)
        let startedAt = Date()
        let id = try repository.create(kind: .base, label: source.node.name, at: startedAt)
        let directory = repository.directory(of: id)
        let file = "base.tar"
        let partial = "\(directory)/\(file).partial"
        do {
            let sink = try StreamSink(path: partial, progress: ProgressMeter(label: "pg_basebackup from \(source.node.name)", enabled: showProgress && isatty(STDERR_FILENO) == 1))
            let conninfo = source.node.connection.rendered()
            let result = try await StreamingCommand.run([try PostgresBinaries.binary("pg_basebackup"), "-d", conninfo, "-D", "-", "-Ft", "-X", "fetch",
                                                         "-c", "fast", "--no-password"]) { chunk in try sink.write(chunk) }
            let (size, sha256) = try sink.close()
            guard result.status == 0 else {
                throw BackupError.commandFailed(what: "pg_basebackup from \(source.node.name)", status: result.status,
                                                output: result.stderr.trimmingCharacters(in: .whitespacesAndNewlines))
            }
            try AtomicFile.commit(partial, to: "\(directory)/\(file)")
            repository.adoptOwnership("\(directory)/\(file)")
            let stop = try await source.position(database: database)
            let manifest = BackupManifest(
                id: id, kind: .base, cluster: config.cluster, database: nil, path: file, size: size, sha256: sha256,
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

    /// The WAL segment a base backup starts from, read from the `backup_label` in its tar.
    static func startSegment(ofTar path: String) async throws -> String? {
        let label = try await CommandRunner.run(["tar", "-xOf", path, "backup_label"], check: false)
        guard label.status == 0 else { return nil }
        // START WAL LOCATION: 0/2000028 (file 000000010000000000000002)
        guard let line = label.stdout.split(separator: "\n").first(where: { $0.hasPrefix("START WAL LOCATION") }),
              let open = line.range(of: "(file "), let close = line.lastIndex(of: ")") else { return nil }
        return String(line[open.upperBound..<close])
    }
}
