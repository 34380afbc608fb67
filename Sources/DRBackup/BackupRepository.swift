import DRCore
import Foundation

/// The backup repository: one prefix per backup under `REPOSITORY/CLUSTER/`, each with its
/// data file(s) and `manifest.json`, in a local directory or an S3 bucket (`ObjectStore`).
/// A backup without a manifest is unfinished: the manifest is always written last.
public struct BackupRepository: Sendable {
    public let objects: any ObjectStore
    public let cluster: String
    public let region: String
    /// The keys backups and WAL are sealed and opened with; nil: not encrypted.
    public let keyring: BackupKeyring?

    public init(store: any ObjectStore, cluster: String, region: String, keyring: BackupKeyring? = nil) {
        self.objects = store
        self.cluster = cluster
        self.region = region
        self.keyring = keyring
    }

    /// The repository the config names: its directory, or its bucket (credentials and
    /// encryption keys read now).
    public init(config: ClusterConfig) throws {
        guard let backup = config.backup else {
            throw BackupError.refused("the config has no `backup` section (repository, repository_region, allowed_regions)")
        }
        if let s3 = backup.objectStorage {
            let providerRegion = { (name: String) in config.regions.first { $0.name == name }?.providerRegion }
            guard let expected = providerRegion(backup.repositoryRegion) else {
                throw BackupError.refused("an s3:// repository needs provider_region on region \(backup.repositoryRegion) (backup.repository_region)")
            }
            let allowed = Dictionary(
                backup.allowedRegions.compactMap { name in providerRegion(name).map { ($0, name) } }, uniquingKeysWith: { first, _ in first })
            objects = try S3Store(config: s3, expectedRegion: expected, allowedRegions: allowed)
        } else {
            objects = DirectoryStore(root: backup.repository)
        }
        cluster = config.cluster
        region = backup.repositoryRegion
        keyring = try BackupKeyring.load(backup.encryption)
    }

    /// Where this cluster's backups are, for messages: a directory or an s3:// URL.
    public var location: String { objects.location.hasSuffix("/") ? objects.location + cluster : "\(objects.location)/\(cluster)" }
    func key(_ id: String, _ file: String) -> String { "\(cluster)/\(id)/\(file)" }
    func manifestKey(of id: String) -> String { key(id, "manifest.json") }
    /// Where a backup's file is, for messages.
    public func describe(_ id: String, _ file: String) -> String { "\(location)/\(id)/\(file)" }

    /// Every finished backup, oldest first. A manifest that does not parse is an error
    /// naming it, not a silently skipped backup.
    public func list() async throws -> [BackupManifest] {
        let ids = try await objects.children(of: "\(cluster)/").prefixes.filter { $0 != "wal" && $0 != "drills" }
        var manifests: [BackupManifest] = []
        for id in ids.sorted() {
            guard let data = try await objects.read(manifestKey(of: id)) else { continue }
            do {
                manifests.append(try JSONDecoder().decode(BackupManifest.self, from: data))
            } catch {
                throw BackupError.corruptManifest(path: describe(id, "manifest.json"), detail: "\(error)")
            }
        }
        return manifests
    }

    public func manifest(_ id: String) async throws -> BackupManifest {
        guard let found = try await list().first(where: { $0.id == id }) else { throw BackupError.noSuchBackup(id: id, repository: location) }
        return found
    }

    /// A new backup's id, named so that names sort by time; the repository is checked
    /// writable (and for a bucket, in an allowed region) first.
    func create(kind: BackupManifest.Kind, label: String, at date: Date) async throws -> String {
        try await objects.prepareForWriting()
        let stem = "\(UTCTime.compact(date))-\(kind.rawValue)-\(label)"
        let taken = Set(try await objects.children(of: "\(cluster)/").prefixes)
        var id = stem
        var suffix = 1
        while taken.contains(id) {
            suffix += 1
            id = "\(stem)-\(suffix)"
        }
        return id
    }

    func write(_ manifest: BackupManifest) async throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try await objects.write(manifestKey(of: manifest.id), try encoder.encode(manifest))
    }

    /// Writes an object under the cluster's prefix (atomically); returns where it is, as a
    /// path for a directory repository or an s3:// URL.
    public func store(_ data: Data, at relativePath: String) async throws -> String {
        try await objects.write("\(cluster)/\(relativePath)", data)
        return objects.localPath("\(cluster)/\(relativePath)") ?? "\(location)/\(relativePath)"
    }

    /// Removes a backup: its manifest first, so a half-removed backup reads as unfinished.
    public func remove(_ id: String) async throws {
        try await objects.delete(manifestKey(of: id))
        for key in try await objects.keys(under: "\(cluster)/\(id)/") { try await objects.delete(key) }
    }

    /// A local file with the backup's data, its SHA-256 checked against the manifest: the
    /// repository's own file for a directory, else a download into `scratch` (the caller
    /// removes it). The checksum is computed as the bytes arrive, costing no second read.
    public func fetchChecked(_ manifest: BackupManifest, scratch: String, progress: ProgressMeter? = nil) async throws -> String {
        if manifest.encryption != nil { return try await fetchOpened(manifest, scratch: scratch, progress: progress) }
        let key = key(manifest.id, manifest.path)
        let path = objects.localPath(key) ?? "\(scratch)/\(manifest.path)"
        let found: String
        if objects.localPath(key) != nil {
            // Hashing a large file is long blocking I/O: off the cooperative pool.
            found = try await DirectoryStore.io {
                guard FileManager.default.fileExists(atPath: path) else {
                    throw BackupError.io(path: path, detail: "missing: backup \(manifest.id) is incomplete")
                }
                return try Self.sha256(of: path)
            }
        } else {
            try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            guard let downloaded = try await objects.download(key, to: path, progress: progress) else {
                throw BackupError.io(path: describe(manifest.id, manifest.path), detail: "missing: backup \(manifest.id) is incomplete")
            }
            found = downloaded.sha256
        }
        guard found == manifest.sha256 else {
            throw BackupError.checksumMismatch(id: manifest.id, file: describe(manifest.id, manifest.path), expected: manifest.sha256, found: found)
        }
        return path
    }

    /// Hands the backup's data to `consume` as it arrives (off Swift's cooperative pool; it
    /// may block) and then checks its SHA-256 against the manifest: a mismatch or a short
    /// object throws after `consume` has seen the bytes, so the caller undoes what it made
    /// of them.
    ///
    /// An encrypted backup is opened on the way: `consume` sees only authenticated plaintext,
    /// and the checksum is of the stored (sealed) bytes.
    public func streamChecked(_ manifest: BackupManifest, into consume: @escaping @Sendable (UnsafeRawBufferPointer) throws -> Void) async throws {
        let key = key(manifest.id, manifest.path)
        var opener: StreamOpener?
        if manifest.encryption != nil {
            guard let keyring else {
                throw BackupError.keyMissing(keyID: manifest.keyID ?? "(unknown)", what: "backup \(manifest.id)", configured: [])
            }
            opener = StreamOpener(keyring: keyring, what: "backup \(manifest.id) (\(describe(manifest.id, manifest.path)))")
        }
        let sink: @Sendable (UnsafeRawBufferPointer) throws -> Void
        if let opener {
            sink = { sealed in try Self.hand(try opener.update(sealed), to: consume) }
        } else {
            sink = consume
        }
        guard let streamed = try await objects.stream(key, into: sink) else {
            throw BackupError.io(path: describe(manifest.id, manifest.path), detail: "missing: backup \(manifest.id) is incomplete")
        }
        guard streamed.sha256 == manifest.sha256 else {
            throw BackupError.checksumMismatch(id: manifest.id, file: describe(manifest.id, manifest.path), expected: manifest.sha256, found: streamed.sha256)
        }
        if let opener { try Self.hand(try opener.finish(), to: consume) }
    }

    private static func hand(_ bytes: [UInt8], to consume: (UnsafeRawBufferPointer) throws -> Void) throws {
        guard !bytes.isEmpty else { return }
        try bytes.withUnsafeBytes { try consume($0) }
    }

    /// An encrypted backup's plaintext, opened into a new file in `scratch` (even from a
    /// directory repository: tools like pg_restore read it in place).
    private func fetchOpened(_ manifest: BackupManifest, scratch: String, progress: ProgressMeter?) async throws -> String {
        try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let path = "\(scratch)/\(manifest.path.hasSuffix(".enc") ? String(manifest.path.dropLast(4)) : manifest.path)"
        let sink = try StreamSink(path: path, progress: progress)
        do {
            try await streamChecked(manifest) { try sink.write($0) }
            _ = try sink.close()
            return path
        } catch {
            sink.discard()
            try? FileManager.default.removeItem(atPath: path)
            throw error
        }
    }

    /// SHA-256 of a file, streamed.
    static func sha256(of path: String) throws -> String {
        guard let handle = FileHandle(forReadingAtPath: path) else { throw BackupError.io(path: path, detail: "cannot open") }
        defer { try? handle.close() }
        var hasher = FileDigest()
        while let chunk = try handle.read(upToCount: 1 << 20), !chunk.isEmpty { hasher.update(chunk) }
        return hasher.finish()
    }
}
