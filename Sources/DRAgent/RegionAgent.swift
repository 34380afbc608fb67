import DRCoordination
import DRCore
import Dispatch
import Foundation
import Logging

/// `drctl agent --region R`: one `NodeAgent` loop per node of the region, until SIGTERM
/// or SIGINT, after which each loop shuts down safely (see `NodeAgent.shutdown`).
public enum RegionAgent {
    public static func run(config: ClusterConfig, region name: String, stateDir: String, sourceAddress: String? = nil) async throws {
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
