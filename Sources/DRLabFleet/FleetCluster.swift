import DRAgent
import DRAgentTesting
import DRCoordination
import DRCore
import Foundation
import Logging

/// One simulated cluster of a fleet: three real `NodeAgent`s (production defaults: 1 s loop,
/// 5 s lease) over the scripted databases the agent tests use, against a real etcd under a
/// key prefix of its own, in real time. Its primary is lost like a host: agent and
/// database gone at once, no last decision.
final class FleetCluster: @unchecked Sendable {
    let name: String
    let config: ClusterConfig
    let servers: ScriptedServers
    let stateDir: String
    /// The agents' and the servers' clock: the host's, from this cluster's start.
    let clock = SystemAgentClock()
    private let lock = NSLock()
    private var loops: [String: Task<Void, Never>] = [:]
    private var agents: [String: NodeAgent] = [:]

    static let nodes = ["a", "b", "c"]

    /// - Parameters:
    ///   - prefix: the etcd prefix every cluster of this run sits under; the cluster's own is
    ///     `prefix + name + "/"`, so `drctl status --all` sees them as one fleet.
    init(name: String, endpoints: [String], prefix: String, stateRoot: String) throws {
        self.name = name
        config = try ConfigLoader.load(yaml: Self.yaml(name: name, endpoints: endpoints, prefix: prefix + name + "/"), file: "\(name).yaml")
        servers = ScriptedServers(clock: clock, config: config, primary: "a")
        stateDir = "\(stateRoot)/\(name)"
        try FileManager.default.createDirectory(atPath: stateDir, withIntermediateDirectories: true)
    }

    /// The production defaults `drctl init` writes, for three regions on the scripted
    /// servers, with a rejoin and a short cooldown so that the next loss can follow.
    static func yaml(name: String, endpoints: [String], prefix: String) -> String {
        AgentCluster.configuration(
            nodes: nodes, timeout: "1s", cooldown: "2s", failover: ["auto_rejoin: true"], cluster: name, endpoints: endpoints, prefix: prefix)
    }

    /// Starts every node's agent, each looping on its own task from `offset` into its interval.
    func start(log: Logger) throws {
        for (index, entry) in config.nodes.enumerated() { try startAgent(entry.node.name, offset: .milliseconds(137 * (index + 1)), log: log) }
    }

    /// Starts `node`'s agent (a new process: nothing carried over but its files).
    func startAgent(_ node: String, offset: Duration = .zero, log: Logger) throws {
        guard let entry = config.node(named: node) else { return }
        var logger = log
        logger[metadataKey: "cluster"] = "\(name)"
        let agent = NodeAgent(
            config: config, region: entry.region, node: entry.node, coordinator: try EtcdCoordinator.forConfig(config), stateDir: stateDir,
            log: logger, database: servers.database(node), clock: clock)
        let clock = clock
        let loop = Task {
            try? await Task.sleep(for: offset)
            await agent.start()
            // `NodeAgent.loop` without its last decision: a lost host makes none.
            while !Task.isCancelled {
                let started = clock.now
                await agent.tick()
                let pause = await agent.pauseAfterTick(startedAt: started)
                if pause > .zero { try? await Task.sleep(for: pause) }
            }
        }
        lock.withLock {
            agents[node] = agent
            loops[node] = loop
        }
    }

    /// The lost host is back: init starts its server (read-only: its guard, its fence) and
    /// its agent starts; with `auto_rejoin` it rewinds and follows the new primary.
    func restoreHost(_ node: String, log: Logger) throws {
        servers.boot(node)
        try startAgent(node, log: log)
    }

    /// The node whose server accepts writes, when exactly one does.
    var primary: String? {
        let writable = servers.writable
        return writable.count == 1 ? writable.first : nil
    }

    /// Whether the cluster settled: one writable server and every standby streaming from it.
    var settled: Bool {
        guard let primary else { return false }
        return Self.nodes.filter { $0 != primary }.allSatisfy { node in
            let server = servers[node]
            return server.running && server.inRecovery && server.upstream == primary && server.lsn == servers[primary].lsn
        }
    }

    /// The primary's host is gone: its agent stops without a last decision and its server
    /// stops. Returns the node lost.
    func losePrimary() async -> String? {
        guard let primary else { return nil }
        let (loop, agent) = lock.withLock { (loops.removeValue(forKey: primary), agents.removeValue(forKey: primary)) }
        loop?.cancel()
        await agent?.halt()
        servers.change(primary) { $0.running = false }
        return primary
    }

    /// Stops every agent (no last decisions: the run is over) and removes the state.
    func stop() async {
        let (running, all) = lock.withLock {
            let both = (Array(loops.values), Array(agents.values))
            loops = [:]
            agents = [:]
            return both
        }
        for loop in running { loop.cancel() }
        for agent in all { await agent.halt() }
        for loop in running { await loop.value }
        try? FileManager.default.removeItem(atPath: stateDir)
    }
}
