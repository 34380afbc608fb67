import DRCore
import Foundation

/// The backup repository: one directory per backup under `REPOSITORY/CLUSTER/`, each with
/// its data file(s) and `manifest.json`. A backup without a manifest is unfinished.
public struct BackupRepository: Sendable {
    public let root: String
    public let cluster: String
    public let region: String

    public init(config: BackupConfig, cluster: String) {
        root = config.repository
        self.cluster = cluster
        region = config.repositoryRegion
    }

    public var clusterDirectory: String { "\(root)/\(cluster)" }
    public func directory(of id: String) -> String { "\(clusterDirectory)/\(id)" }
    func manifestPath(of id: String) -> String { "\(directory(of: id))/manifest.json" }

    /// Every finished backup, oldest first. A manifest that does not parse is an error
    /// naming it, not a silently skipped backup.
    public func list() throws -> [BackupManifest] {
        let ids = (try? FileManager.default.contentsOfDirectory(atPath: clusterDirectory)) ?? []
        return try ids.sorted().compactMap { id in
            let path = manifestPath(of: id)
            guard let data = FileManager.default.contents(atPath: path) else { return nil }
            do {
                return try JSONDecoder().decode(BackupManifest.self, from: data)
            } catch {
                throw BackupError.corruptManifest(path: path, detail: "\(error)")
            }
        }
    }

    public func manifest(_ id: String) throws -> BackupManifest {
        guard let found = try list().first(where: { $0.id == id }) else { throw BackupError.noSuchBackup(id: id, repository: clusterDirectory) }
        return found
    }

    /// Everything in the repository belongs to the owner of its root directory: the
    /// database server writes WAL into it (archive_command runs as its user) and reads it
    /// back in a restore, while backups may be taken by root.
    func adoptOwnership(_ path: String) {
        guard geteuid() == 0, let attributes = try? FileManager.default.attributesOfItem(atPath: root),
            let uid = attributes[.ownerAccountID] as? NSNumber, let gid = attributes[.groupOwnerAccountID] as? NSNumber
        else { return }
        chown(path, uid.uint32Value, gid.uint32Value)
    }

    /// Creates the repository's directories if needed (owned like its root, 0700).
    func ensureDirectory(_ path: String) throws {
        var created: [String] = []
        var current = path
        while !FileManager.default.fileExists(atPath: current), current.hasPrefix(root), current != root {
            created.append(current)
            current = (current as NSString).deletingLastPathComponent
        }
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        created.forEach(adoptOwnership)
    }

    /// A new backup's directory (0700), named so that names sort by time.
    func create(kind: BackupManifest.Kind, label: String, at date: Date) throws -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyyMMdd'T'HHmmss'Z'"
        var id = "\(formatter.string(from: date))-\(kind.rawValue)-\(label)"
        var suffix = 1
        while FileManager.default.fileExists(atPath: directory(of: id)) {
            suffix += 1
            id = "\(formatter.string(from: date))-\(kind.rawValue)-\(label)-\(suffix)"
        }
        guard FileManager.default.fileExists(atPath: root) else {
            throw BackupError.io(path: root, detail: "the backup repository does not exist (create it, owned by the database server's user)")
        }
        try ensureDirectory(directory(of: id))
        return id
    }

    func write(_ manifest: BackupManifest) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try AtomicFile.write(try encoder.encode(manifest), to: manifestPath(of: manifest.id))
        adoptOwnership(manifestPath(of: manifest.id))
    }

    /// Writes a file under the cluster's directory (atomically, 0600, owned like the
    /// repository), creating its directories; returns its path.
    public func store(_ data: Data, at relativePath: String) throws -> String {
        let path = "\(clusterDirectory)/\(relativePath)"
        try ensureDirectory((path as NSString).deletingLastPathComponent)
        try AtomicFile.write(data, to: path)
        adoptOwnership(path)
        return path
    }

    /// Removes a backup: its manifest first, so a half-removed backup reads as unfinished.
    public func remove(_ id: String) throws {
        try? FileManager.default.removeItem(atPath: manifestPath(of: id))
        try FileManager.default.removeItem(atPath: directory(of: id))
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
