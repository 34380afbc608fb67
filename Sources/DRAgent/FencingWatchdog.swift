import DRCore
import DRSystem
import Foundation
import Logging

/// A second process that fences the node's database when the agent misses its lease
/// deadline — because the agent is frozen, stalled or dead, when its own timer cannot run.
///
/// Patroni relies on the Linux watchdog device for this; drctl keeps it in user space: the
/// agent writes its current deadline (CLOCK_MONOTONIC, shared by all processes of the
/// host) to a file after every confirmed renewal, and this process, which shares no thread
/// with the agent, stops the database once that deadline has passed without a newer one.
public enum FencingWatchdog {
    /// The deadline file of `node` in `stateDir`: nanoseconds of CLOCK_MONOTONIC, or empty
    /// when the node holds no lease.
    public static func deadlineFile(stateDir: String, node: String) -> String { "\(stateDir)/\(node).deadline" }

    public static func monotonicNanoseconds() -> Int64 {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        return Int64(now.tv_sec) * 1_000_000_000 + Int64(now.tv_nsec)
    }

    /// Atomically replaces the deadline (nil: no lease held, nothing to guard).
    static func publish(_ deadlineNanoseconds: Int64?, to path: String) {
        let text = deadlineNanoseconds.map(String.init) ?? ""
        try? text.write(toFile: path, atomically: true, encoding: .utf8)
    }

    static func read(_ path: String) -> Int64? {
        (try? String(contentsOfFile: path, encoding: .utf8)).flatMap { Int64($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
    }

    /// `drctl watchdog`: polls every 100 ms until its agent is gone and no deadline is left
    /// to guard. Fences at most once per deadline.
    public static func run(config: ClusterConfig, node: NodeConfig, stateDir: String, agentPID: Int32, log: Logger) async {
        let file = deadlineFile(stateDir: stateDir, node: node.name)
        let database = DatabaseActions(node: node, promotionTimeout: config.failover.promotionTimeout)
        var fencedFor: Int64?
        while true {
            let deadline = read(file)
            let agentAlive = ProcessControl.isAlive(agentPID)
            if let deadline, monotonicNanoseconds() >= deadline, fencedFor != deadline {
                fencedFor = deadline
                log.critical("agent missed its lease deadline: fencing the database", metadata: ["node": "\(node.name)", "agent_alive": "\(agentAlive)"])
                FileManager.default.createFile(atPath: "\(stateDir)/\(node.name).fenced", contents: Data("watchdog: lease deadline missed".utf8))
                do { try await database.fence() } catch { log.critical("watchdog could not fence", metadata: ["error": "\(error)"]) }
            }
            if !agentAlive, deadline == nil || fencedFor == deadline { return }
            try? await Task.sleep(for: .milliseconds(100))
        }
    }
}
