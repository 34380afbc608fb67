import Foundation

/// A lock file one background process holds while it runs (the asynchronous pusher, the
/// recovery prefetcher): `flock`, so it is released when the holder exits or dies, and a
/// stopped holder still holds it. Callers ask whether one runs before they start another.
struct ProcessLock {
    let path: String

    /// Takes the lock if nobody holds it: the descriptor to keep open while holding it, or
    /// nil when another process holds it (or the file cannot be opened).
    func take() -> Int32? {
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else { return nil }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            close(fd)
            return nil
        }
        return fd
    }

    static func release(_ fd: Int32) {
        flock(fd, LOCK_UN)
        close(fd)
    }

    /// Whether another process holds the lock now.
    var isHeld: Bool {
        guard let fd = take() else { return FileManager.default.fileExists(atPath: path) }
        Self.release(fd)
        return false
    }
}
