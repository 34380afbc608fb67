import Foundation
import Synchronization

/// Runs a command under a time limit, in a session of its own: at the limit the whole
/// process group is killed (a hook's children too), so nothing it started outlives it
/// unless it left the group on purpose.
public enum BoundedCommand {
    public struct Result: Sendable, Equatable {
        /// The exit status (128 + N when killed by signal N).
        public var status: Int32
        /// The limit was reached and the group killed.
        public var timedOut: Bool
        /// Standard output and error, interleaved, at most the last `keep` characters.
        public var output: String
    }

    /// - Parameter environment: set on top of the agent's own environment.
    public static func run(_ arguments: [String], environment: [String: String] = [:], timeout: Duration, keep: Int = 500) async throws -> Result {
        let settings = environment.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
        let argv = settings.isEmpty ? arguments : ["/usr/bin/env"] + settings + arguments
        let outputPath = NSTemporaryDirectory() + "drctl-hook-\(UUID().uuidString).out"
        defer { try? FileManager.default.removeItem(atPath: outputPath) }
        let pid = try ProcessControl.spawn(argv, stdout: outputPath, stderr: outputPath, append: false, newSession: true)
        let killed = Mutex(false)
        let limit = Task {
            guard (try? await Task.sleep(for: timeout)) != nil else { return }
            // Only a group still there counts: one that exited just now was not cut short.
            if kill(-pid, SIGKILL) == 0 { killed.withLock { $0 = true } }
        }
        let status = await ProcessControl.waitForChild(pid)
        limit.cancel()
        let timedOut = killed.withLock { $0 }
        let text = (try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? ""
        return Result(status: status, timedOut: timedOut, output: String(text.suffix(keep)))
    }
}
