import Foundation

/// A local file a stream is written to, hashed on the way (used by one thread at a time).
final class StreamSink: @unchecked Sendable {
    private let fd: Int32
    private let path: String
    private var digest: FileDigest? = FileDigest()
    private var size: UInt64 = 0
    private let progress: ProgressMeter?

    init(path: String, progress: ProgressMeter?) throws {
        fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0o600)
        guard fd >= 0 else { throw BackupError.io(path: path, detail: String(cString: strerror(errno))) }
        self.path = path
        self.progress = progress
    }

    func write(_ chunk: UnsafeRawBufferPointer) throws {
        var offset = 0
        while offset < chunk.count {
            let n = Foundation.write(fd, chunk.baseAddress! + offset, chunk.count - offset)
            if n < 0 {
                if errno == EINTR { continue }
                throw BackupError.io(path: path, detail: String(cString: strerror(errno)))
            }
            offset += n
        }
        digest!.update(chunk)
        size += UInt64(chunk.count)
        progress?.advance(by: chunk.count)
    }

    /// Flushes to disk; returns the size and the hex SHA-256.
    func close() throws -> (size: UInt64, sha256: String) {
        guard let finished = digest.take() else { throw BackupError.io(path: path, detail: "closed twice") }
        defer { Foundation.close(fd) }
        guard fsync(fd) == 0 else { throw BackupError.io(path: path, detail: String(cString: strerror(errno))) }
        progress?.finish()
        return (size, finished.finish())
    }

    /// Closes without flushing: the file is being thrown away.
    func discard() {
        guard digest.take() != nil else { return }
        Foundation.close(fd)
    }
}
