import CSpawn
import Foundation

/// A program reading its standard input from the caller, chunk by chunk as the caller gets
/// them (a base backup streamed from a bucket straight into `tar -x`): the reverse of
/// `StreamingCommand`. `write` blocks while the program is behind, so call it from a thread
/// outside Swift's cooperative pool.
public final class FedCommand: @unchecked Sendable {
    private let pid: Int32
    private let description: String
    private let errPath: String
    private let lock = NSLock()
    private var input: Int32
    /// The program stopped reading (it exited, or closed its input): later bytes are dropped,
    /// and its exit status says whether that was an error.
    private var readerGone = false

    /// Starts `arguments` (already wrapped for the user it runs as).
    public init(_ arguments: [String]) throws {
        // A reader that exits early must be an EPIPE to report, never a SIGPIPE that kills drctl.
        signal(SIGPIPE, SIG_IGN)
        var fds: [Int32] = [0, 0]
        guard drctl_pipe_cloexec(&fds) == 0 else { throw SystemError.io("cannot create a pipe: \(String(cString: strerror(errno)))") }
        errPath = NSTemporaryDirectory() + "drctl-fed-\(UUID().uuidString).err"
        description = arguments.joined(separator: " ")
        do {
            pid = try ProcessControl.spawn(
                [try CommandRunner.resolve(arguments[0])] + arguments.dropFirst(), stdout: "/dev/null", stderr: errPath, append: false, newSession: false,
                input: (fds[0], fds[1]))
        } catch {
            close(fds[0]); close(fds[1])
            throw error
        }
        close(fds[0])
        input = fds[1]
    }

    /// Hands `chunk` to the program, all of it, unless it stopped reading.
    public func write(_ chunk: UnsafeRawBufferPointer) throws {
        try lock.withLock {
            guard !readerGone, input >= 0 else { return }
            var offset = 0
            while offset < chunk.count {
                let n = Foundation.write(input, chunk.baseAddress! + offset, chunk.count - offset)
                if n < 0 {
                    if errno == EINTR { continue }
                    if errno == EPIPE {
                        readerGone = true
                        return
                    }
                    throw SystemError.io("writing to \(description): \(String(cString: strerror(errno)))")
                }
                offset += n
            }
        }
    }

    /// Ends the input and waits for the program: its exit status and what it wrote to stderr.
    public func finish() async -> (status: Int32, stderr: String) {
        closeInput()
        let status = await ProcessControl.waitForChild(pid)
        defer { try? FileManager.default.removeItem(atPath: errPath) }
        return (status, (try? String(contentsOfFile: errPath, encoding: .utf8)) ?? "")
    }

    /// Stops the program (the stream failed) and waits for it.
    public func cancel() async {
        kill(pid, SIGTERM)
        _ = await finish()
    }

    private func closeInput() {
        lock.withLock {
            if input >= 0 { close(input) }
            input = -1
        }
    }
}
