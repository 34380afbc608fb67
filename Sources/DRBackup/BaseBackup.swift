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
        try await StreamedBackup(config: config, repository: repository).capture(
            kind: .base, label: source.node.name, file: "base.tar", database: nil, source: source,
            command: [
                try PostgresBinaries.binary("pg_basebackup"), "-d", source.node.connection.rendered(), "-D", "-", "-Ft", "-X", "fetch",
                "-c", "fast", "--no-password",
            ],
            what: "pg_basebackup", showProgress: showProgress)
    }

    /// The WAL segment a base backup starts from, read from the `backup_label` in its tar.
    static func startSegment(ofTar path: String) async throws -> String? {
        let label = try await CommandRunner.run(["tar", "-xOf", path, "backup_label"], check: false)
        guard label.status == 0 else { return nil }
        // START WAL LOCATION: 0/2000028 (file 000000010000000000000002)
        guard let line = label.stdout.split(separator: "\n").first(where: { $0.hasPrefix("START WAL LOCATION") }),
            let open = line.range(of: "(file "), let close = line.lastIndex(of: ")")
        else { return nil }
        return String(line[open.upperBound..<close])
    }
}
