import DRSystem
import Foundation

/// The backup repository full, as a disk that filled up (root only): a small tmpfs is
/// mounted over the lab's repository and filled, so every `wal-push` and backup fails with
/// "no space left on device" until the fault ends; what was archived before is hidden
/// meanwhile (a repository that cannot be read either), and back after.
extension Lab {
    public static func fillRepository(dir: String) async throws {
        let state = try LabState.load(dir: absolute(dir))
        guard getuid() == 0 else { throw LabError.io("filling the repository needs root (it mounts a tmpfs)") }
        let path = state.backupDir
        guard !mounts(under: path).contains(path) else { return }
        try await CommandRunner.run(["mount", "-t", "tmpfs", "-o", "size=256k,mode=0700", "drctl-lab-full", path])
        try await CommandRunner.run(["chown", "postgres:postgres", path])
        // Filled to the last block: the next write of any size fails.
        _ = try? await CommandRunner.run(["dd", "if=/dev/zero", "of=\(path)/filler", "bs=4k"], check: false)
    }

    public static func freeRepository(dir: String) async throws {
        let state = try LabState.load(dir: absolute(dir))
        guard mounts(under: state.backupDir).contains(state.backupDir) else { return }
        try await CommandRunner.run(["umount", "-l", state.backupDir])
    }

    /// Mount points at or below `path` (from /proc/mounts), deepest first.
    static func mounts(under path: String) -> [String] {
        let table = (try? String(contentsOfFile: "/proc/mounts", encoding: .utf8)) ?? ""
        return table.split(separator: "\n").compactMap { line -> String? in
            let fields = line.split(separator: " ")
            guard fields.count > 1 else { return nil }
            // Spaces in mount points are escaped as \040.
            let point = String(fields[1]).replacing("\\040", with: " ")
            return point == path || point.hasPrefix(path + "/") ? point : nil
        }.sorted { $0.count > $1.count }
    }

    /// Unmounts whatever a fault left mounted in the lab (lab down).
    static func unmountAll(under dir: String) async {
        for point in mounts(under: dir) { _ = try? await CommandRunner.run(["umount", "-l", point], check: false) }
    }
}
