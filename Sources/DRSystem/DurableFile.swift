import Foundation

/// Files that must survive a power loss once written: never half-written (a temporary file,
/// fsync, rename, then an fsync of the directory so the rename itself is on disk), and
/// readable by their owner only.
public enum DurableFile {
    /// Why a file could not be written: which file, and the system's reason.
    public struct Failure: Error, CustomStringConvertible, Sendable {
        public var path: String
        public var detail: String
        public var description: String { "\(path): \(detail)" }
    }

    /// Writes `data` to `path` durably; throws `Failure` naming the file and the reason.
    public static func write(_ data: Data, to path: String) throws {
        try commit(try writeTemporary(data, for: path), to: path)
    }

    /// Creates `path` with `data` durably only if nothing is there: false, leaving what is
    /// there untouched, when something is. A hard link cannot replace a file, so of two
    /// writers racing for one name exactly one wins, and nobody ever sees a partial file.
    public static func create(_ data: Data, at path: String) throws -> Bool {
        let temporary = try writeTemporary(data, for: path)
        defer { unlink(temporary) }
        guard link(temporary, path) == 0 else {
            let code = errno
            if code == EEXIST { return false }
            throw failure(path, code)
        }
        syncDirectory(of: path)
        return true
    }

    /// `data` in a new file beside `path`, flushed to disk; returns its name.
    private static func writeTemporary(_ data: Data, for path: String) throws -> String {
        let temporary = path + ".tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        guard fd >= 0 else { throw failure(temporary, errno) }
        var failed: Int32 = 0
        data.withUnsafeBytes { buffer in
            guard let base = buffer.baseAddress else { return }
            var offset = 0
            while offset < buffer.count {
                let n = Foundation.write(fd, base + offset, buffer.count - offset)
                if n < 0 {
                    if errno == EINTR { continue }
                    failed = errno
                    return
                }
                offset += n
            }
        }
        if failed == 0, fsync(fd) != 0 { failed = errno }
        close(fd)
        guard failed == 0 else {
            unlink(temporary)
            throw failure(path, failed)
        }
        return temporary
    }

    /// Renames a finished file into place and makes the rename durable.
    public static func commit(_ temporary: String, to path: String) throws {
        guard rename(temporary, path) == 0 else {
            let code = errno
            unlink(temporary)
            throw failure(path, code)
        }
        syncDirectory(of: path)
    }

    static func syncDirectory(of path: String) {
        let dir = (path as NSString).deletingLastPathComponent
        let fd = open(dir.isEmpty ? "." : dir, O_RDONLY)
        if fd >= 0 {
            fsync(fd)
            close(fd)
        }
    }

    private static func failure(_ path: String, _ code: Int32) -> Failure {
        Failure(path: path, detail: String(cString: strerror(code)))
    }
}
