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

    /// With zstd (the default) the source server compresses the tar as it sends it, on
    /// two worker threads: the bytes cross the network and land in the repository
    /// compressed, and nothing on this host holds them uncompressed. (pg_basebackup cannot
    /// put its backup_manifest into a compressed tar on standard output; drctl's own
    /// manifest and checksum cover the file.)
    public func run(source: BackupSource, showProgress: Bool = true) async throws -> BackupManifest {
        let compression = config.backup?.compression ?? BackupCompression()
        let zstd = compression.method == .zstd
        return try await StreamedBackup(config: config, repository: repository).capture(
            kind: .base, label: source.node.name, file: zstd ? "base.tar.zst" : "base.tar", database: nil, source: source,
            command: [
                try PostgresBinaries.binary("pg_basebackup"), "-d", source.node.connection.rendered(), "-D", "-", "-Ft", "-X", "fetch",
                "-c", "fast", "--no-password",
            ] + (zstd ? ["--compress=server-zstd:level=\(compression.level),workers=2", "--no-manifest"] : []),
            what: "pg_basebackup", showProgress: showProgress, compression: zstd ? "zstd" : nil)
    }

    /// The WAL segment a base backup starts from, read from the `backup_label` in its tar.
    static func startSegment(ofTar path: String, decompression: [String] = []) async throws -> String? {
        let label = try await CommandRunner.run(["tar"] + decompression + ["-xOf", path, "backup_label"], check: false)
        guard label.status == 0 else { return nil }
        // START WAL LOCATION: 0/2000028 (file 000000010000000000000002)
        guard let line = label.stdout.split(separator: "\n").first(where: { $0.hasPrefix("START WAL LOCATION") }),
            let open = line.range(of: "(file "), let close = line.lastIndex(of: ")")
        else { return nil }
        return String(line[open.upperBound..<close])
    }
}
