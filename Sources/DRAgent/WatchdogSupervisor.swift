import DRSystem
import Foundation
import Logging
import ServiceLifecycle

/// Keeps each node's `drctl watchdog` running beside the agent. The watchdog is what fences
/// the database when the agent misses its lease deadline (frozen, stalled, killed); one that
/// died (an OOM kill, an operator's `kill`) would leave that deadline unguarded without anyone
/// knowing. So the agent looks at each watchdog every second, starts a new one when it is
/// gone, and says so. A new watchdog reads the same lease file and guards the same lease.
struct WatchdogSupervisor: Service {
    /// How to start the watchdog of a node (the executable and its arguments, without the node).
    let command: [String]
    let nodes: [String]
    let stateDir: String
    let log: Logger
    var every: Duration = .seconds(1)

    /// The PID file `drctl agent` writes for `node`'s watchdog.
    static func pidFile(stateDir: String, node: String) -> String { "\(stateDir)/watchdog-\(node).pid" }

    /// Starts `node`'s watchdog for the agent `agentPID` and records its PID.
    @discardableResult
    static func start(command: [String], node: String, stateDir: String, agentPID: Int32) throws -> Int32 {
        let pid = try ProcessControl.spawnDaemon(
            command + ["--node", node, "--state-dir", stateDir, "--agent-pid", String(agentPID)], logFile: "\(stateDir)/watchdog-\(node).log")
        try PIDFile.write(pid, to: pidFile(stateDir: stateDir, node: node))
        return pid
    }

    func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                check()
                try? await Task.sleep(for: every)
            }
        }
    }

    /// Starts again every watchdog that is gone; returns the nodes whose watchdog was started.
    @discardableResult
    func check() -> [String] {
        var started: [String] = []
        for node in nodes {
            let file = Self.pidFile(stateDir: stateDir, node: node)
            if PIDFile.read(file) != nil { continue }
            let was = PIDFile.recorded(file).map(String.init) ?? "none"
            do {
                let pid = try Self.start(command: command, node: node, stateDir: stateDir, agentPID: getpid())
                started.append(node)
                log.critical(
                    "the fencing watchdog was gone: started a new one", metadata: ["node": "\(node)", "pid": "\(pid)", "was": "\(was)"])
            } catch {
                log.critical(
                    "the fencing watchdog is gone and cannot be started again: a missed lease deadline would not be fenced if this agent stalls",
                    metadata: ["node": "\(node)", "error": "\(error)"])
            }
        }
        return started
    }
}
