import Foundation

/// A PostgreSQL data directory about to be filled (a restore, a new standby): the directory
/// itself is 0700 and the server's user's, as initdb and pg_basebackup insist; its parents,
/// created when missing, stay traversable (0755), or the server's user could not reach it.
public enum DataDirectory {
    public static func prepare(_ path: String) async throws {
        let files = FileManager.default
        let parent = (path as NSString).deletingLastPathComponent
        if !parent.isEmpty { try files.createDirectory(atPath: parent, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o755]) }
        if !files.fileExists(atPath: path) { try files.createDirectory(atPath: path, withIntermediateDirectories: false) }
        chmod(path, 0o700)
        if geteuid() == 0 { try await CommandRunner.run(["chown", "postgres:postgres", path]) }
    }

    /// Removes everything inside `path`, keeping the directory itself (it may be a mount
    /// point): what a failed restore or build unpacked goes.
    public static func empty(_ path: String) {
        let files = FileManager.default
        for entry in (try? files.contentsOfDirectory(atPath: path)) ?? [] { try? files.removeItem(atPath: "\(path)/\(entry)") }
    }

    /// The bytes of every file under `path` (0 when it does not exist), walked on a Dispatch
    /// thread: a large directory is long blocking I/O for Swift's cooperative pool.
    public static func size(_ path: String) async -> UInt64 {
        await withCheckedContinuation { continuation in
            DispatchQueue.global().async {
                var total: UInt64 = 0
                if let walker = FileManager.default.enumerator(atPath: path) {
                    while let item = walker.nextObject() as? String {
                        total += (try? FileManager.default.attributesOfItem(atPath: "\(path)/\(item)")[.size] as? UInt64) ?? 0
                    }
                }
                continuation.resume(returning: total)
            }
        }
    }
}
