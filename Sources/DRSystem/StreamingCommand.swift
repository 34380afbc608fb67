import CSpawn
import Foundation

/// Runs a program and hands its standard output to `consume` chunk by chunk as it arrives
/// (a dump streamed into the repository while it is hashed), reading on a dedicated thread
/// so that neither the pipe nor Swift's cooperative pool blocks the other.
public enum StreamingCommand {
    public struct Result: Sendable {
        public var status: Int32
        public var bytes: UInt64
        public var stderr: String
    }

    /// - Parameter consume: called on the reading thread for each chunk; throwing stops the
    ///   read and kills the program.
    public static func run(
        _ arguments: [String], chunkSize: Int = 1 << 20,
        consume: @escaping @Sendable (UnsafeRawBufferPointer) throws -> Void
    ) async throws -> Result {
        var fds: [Int32] = [0, 0]
        // Close-on-exec from the start: a process another thread spawns meanwhile never
        // inherits the write end (it would keep the pipe open and the backup from ending).
        guard drctl_pipe_cloexec(&fds) == 0 else { throw SystemError.io("cannot create a pipe: \(String(cString: strerror(errno)))") }
        let errPath = NSTemporaryDirectory() + "drctl-stream-\(UUID().uuidString).err"
        defer { try? FileManager.default.removeItem(atPath: errPath) }
        let pid: Int32
        do {
            pid = try ProcessControl.spawn(
                [try CommandRunner.resolve(arguments[0])] + arguments.dropFirst(), stdout: "/dev/null", stderr: errPath,
                append: false, newSession: false, pipe: (fds[0], fds[1]))
        } catch {
            close(fds[0]); close(fds[1])
            throw error
        }
        close(fds[1])
        let reader = fds[0]
        let outcome: (bytes: UInt64, error: (any Error)?) = await withCheckedContinuation { continuation in
            Thread {
                var buffer = [UInt8](repeating: 0, count: chunkSize)
                var total: UInt64 = 0
                var failure: (any Error)?
                while true {
                    let n = buffer.withUnsafeMutableBytes { read(reader, $0.baseAddress, chunkSize) }
                    if n < 0, errno == EINTR { continue }
                    if n <= 0 { break }
                    total += UInt64(n)
                    do {
                        try buffer.withUnsafeBytes { try consume(UnsafeRawBufferPointer(rebasing: $0[0..<n])) }
                    } catch {
                        failure = error
                        kill(pid, SIGTERM)
                        break
                    }
                }
                close(reader)
                continuation.resume(returning: (total, failure))
            }.start()
        }
        let status = await ProcessControl.waitForChild(pid)
        if let error = outcome.error { throw error }
        let stderr = (try? String(contentsOfFile: errPath, encoding: .utf8)) ?? ""
        return Result(status: status, bytes: outcome.bytes, stderr: stderr)
    }
}
