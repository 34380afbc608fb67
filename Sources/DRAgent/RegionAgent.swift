import DRCoordination
import DRCore
import Dispatch
import DRSystem
import Foundation
import Logging

/// `drctl agent --region R`: one `NodeAgent` loop per node of the region, until SIGTERM
/// or SIGINT, after which each loop shuts down safely (see `NodeAgent.shutdown`).
public enum RegionAgent {
    /// - Parameter watchdogCommand: how to start `drctl watchdog` (the executable and its
    ///   arguments up to the node), one per node; nil runs without the watchdog process.
    public static func run(config: ClusterConfig, region name: String, stateDir: String, sourceAddress: String? = nil,
                           watchdogCommand: [String]? = nil) async throws {
        guard let region = config.regions.first(where: { $0.name == name }) else {
            throw AgentError.noNodes(region: name)
        }
        guard !region.nodes.isEmpty else { throw AgentError.noNodes(region: name) }
        try FileManager.default.createDirectory(atPath: stateDir, withIntermediateDirectories: true)
        let coordinator = try EtcdCoordinator.forConfig(config, sourceAddress: sourceAddress)
        let agents = region.nodes.map { node in
            var log = Logger(label: "drctl.agent")
            log[metadataKey: "node"] = "\(node.name)"
            return NodeAgent(config: config, region: region, node: node, coordinator: coordinator, stateDir: stateDir, log: log)
        }
        if let watchdogCommand {
            for node in region.nodes {
                let pid = try ProcessControl.spawnDaemon(
                    watchdogCommand + ["--node", node.name, "--state-dir", stateDir, "--agent-pid", String(getpid())],
                    logFile: "\(stateDir)/watchdog-\(node.name).log")
                try "\(pid)\n".write(toFile: "\(stateDir)/watchdog-\(node.name).pid", atomically: true, encoding: .utf8)
            }
        }
        let loops = Task {
            await withTaskGroup(of: Void.self) { group in
                for agent in agents { group.addTask { await agent.run() } }
            }
        }
        let stop = SignalWaiter(signals: [SIGTERM, SIGINT])
        await stop.wait()
        loops.cancel()
        await loops.value
    }
}

/// Waits for the first of some signals, without a handler running in signal context.
/// The sources are only touched in `wait`, once; Dispatch sources are thread-safe.
final class SignalWaiter: @unchecked Sendable {
    private let sources: [DispatchSourceSignal]
    private let queue = DispatchQueue(label: "drctl.signals")

    init(signals: [Int32]) {
        sources = signals.map { number in
            signal(number, SIG_IGN)
            return DispatchSource.makeSignalSource(signal: number, queue: DispatchQueue(label: "drctl.signal.\(number)"))
        }
    }

    func wait() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let once = OnceFlag()
            for source in sources {
                source.setEventHandler { if once.claim() { continuation.resume() } }
                source.resume()
            }
        }
    }
}

private final class OnceFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var done = false
    func claim() -> Bool { lock.withLock { defer { done = true }; return !done } }
}
