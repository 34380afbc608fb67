import DRAgent
import DRCore
import Foundation

/// Real `NodeAgent`s around an in-memory etcd and scripted servers, all on one manual clock:
/// The failover scenarios of the requirements (docs/design.md, safety invariants) and the safety faults, step by step, without a server.
///
/// Every `step` the world moves (primaries write, standbys stream), the clock advances
/// (lease deadlines and promotion heartbeats fire at their exact moments), each agent whose
/// health interval is due ticks (at its own offset, as real agents drift apart), and the
/// safety invariant is checked: at most one server accepts writes. A violation is recorded
/// with its moment; tests assert there are none.
public final class AgentCluster: @unchecked Sendable {
    public let clock = ManualClock()
    public let etcd: InMemoryEtcd
    public let servers: ScriptedServers
    public let config: ClusterConfig
    public let log: LogRecorder
    /// What the agents reported for `notifications:`.
    public let notifications = RecordingNotifier()
    /// Where agents keep their fence markers, lease files and evidence (removed by `close`).
    public let stateDir: String
    public var step: Duration = .milliseconds(100)

    private let lock = NSLock()
    private var agents: [String: NodeAgent] = [:]
    /// Each node's `FencingWatchdog` (the real code on the manual clock), started with its
    /// first agent and outliving it, as the watchdog process does; gone with its host.
    private var watchdogs: [String: Task<Void, Never>] = [:]
    /// Whether nodes run a watchdog (production always does).
    public let withWatchdogs: Bool
    private var busy: Set<String> = []
    /// Each agent's loop in flight, cancelled when a service manager stops it.
    private var ticks: [String: Task<Void, Never>] = [:]
    private var offsets: [String: Duration] = [:]
    /// Loops an agent asked for before its regular phase (see `NodeAgent.pauseAfterTick`).
    private var earlyTicks: [String: AgentInstant] = [:]
    private var violations: [String] = []
    /// Agent-API links that are cut, as (from, to) node names: a failsafe request from
    /// `from` to `to` does not arrive.
    private var cutLinks: Set<[String]> = []
    private var writableChanges: [(at: AgentInstant, writable: [String])] = []

    /// - Parameters:
    ///   - yaml: the cluster's configuration (`AgentCluster.configuration` builds one).
    ///   - primary: the node whose server starts as the primary (the others stream from it).
    ///   - watchdogs: run each node's fencing watchdog beside its agent, as production does.
    public init(yaml: String = AgentCluster.configuration(), primary: String = "a", watchdogs: Bool = true) throws {
        withWatchdogs = watchdogs
        config = try ConfigLoader.load(yaml: yaml, file: "agent-cluster.yaml")
        etcd = InMemoryEtcd(clock: clock, prefix: config.coordination.prefix)
        servers = ScriptedServers(clock: clock, config: config, primary: primary)
        log = LogRecorder(clock: clock)
        stateDir = FileManager.default.temporaryDirectory.appendingPathComponent("drctl-agents-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: stateDir, withIntermediateDirectories: true)
        // Agents tick out of step, as real ones do: 300 ms, 700 ms, 500 ms, ... after a whole second.
        for (index, entry) in config.nodes.enumerated() {
            offsets[entry.node.name] = .milliseconds([300, 700, 500, 900, 100][index % 5])
        }
    }

    /// A cluster in `regions` (primary first, then hot standbys), one node each, named by
    /// `nodes`; `failover` lines are added under `failover:`. The scripted servers answer at
    /// the nodes' addresses; `endpoints` and `prefix` matter where a real etcd serves
    /// (the fleet simulation: a prefix per cluster).
    public static func configuration(
        nodes: [String] = ["a", "b"], leaseTTL: String = "5s", interval: String = "1s", timeout: String = "500ms", cooldown: String = "5m",
        failover: [String] = [], cluster: String = "sim", endpoints: [String] = ["http://127.0.0.1:2379"], prefix: String? = nil
    ) -> String {
        var text = """
            cluster: \(cluster)
            objectives:
              rto: 30s
              rpo: 5s
            coordination:
              endpoints: [\(endpoints.joined(separator: ", "))]
              lease_ttl: \(leaseTTL)\(prefix.map { "\n  prefix: \($0)" } ?? "")
            health:
              interval: \(interval)
              failures: 3
              timeout: \(timeout)
            failover:
              promotion_timeout: 10s
              cooldown: \(cooldown)

            """
        for line in failover { text += "  \(line)\n" }
        text += "regions:\n"
        for (index, node) in nodes.enumerated() {
            text += """
                  - name: region-\(node)
                    role: \(index == 0 ? "primary" : "hot-standby")
                    priority: \(100 - index * 10)
                    nodes:
                      - name: \(node)
                        conninfo: "host=127.0.0.1 port=\(5001 + index) user=postgres"
                        data_dir: /nonexistent/\(node)

                """
        }
        return text
    }

    /// Stops the watchdogs and removes the state directory.
    public func close() {
        for task in lock.withLock({ watchdogs.values }) { task.cancel() }
        try? FileManager.default.removeItem(atPath: stateDir)
    }

    public var now: AgentInstant { clock.now }

    /// Each moment from which more than one server accepted writes, with which.
    public var safetyViolations: [String] { lock.withLock { violations } }

    public func agent(_ node: String) -> NodeAgent? { lock.withLock { agents[node] } }

    // MARK: agents coming and going

    /// Starts `node`'s agent (a new process: nothing carried over but its files), and its
    /// watchdog if none runs.
    public func startAgent(_ node: String) async {
        guard let entry = config.node(named: node) else { return }
        let agent = NodeAgent(
            config: config, region: entry.region, node: entry.node, coordinator: etcd.client(node), stateDir: stateDir,
            log: log.logger(node), database: servers.database(node), clock: clock.host(node), watchdogGuardsLease: withWatchdogs,
            failsafePeers: Peers(cluster: self, from: node), notifier: notifications.notifier(for: node))
        await agent.start()
        lock.withLock { agents[node] = agent }
        if withWatchdogs, lock.withLock({ watchdogs[node] == nil }) {
            let (config, stateDir, database, clock, logger) = (config, stateDir, servers.database(node), clock, log.logger("\(node)-watchdog"))
            let watchdog = clock.track {
                // In-process agents share this PID: the watchdog guards the lease until its host goes.
                await FencingWatchdog.run(
                    config: config, node: entry.node, stateDir: stateDir, agentPID: getpid(), log: logger, database: database, clock: clock,
                    isAlive: { _ in true })
            }
            lock.withLock { watchdogs[node] = watchdog }
        }
    }

    /// Starts every node's agent.
    public func startAll() async {
        for entry in config.nodes { await startAgent(entry.node.name) }
    }

    /// SIGKILL: the agent's process ends with no last decision; its watchdog stays.
    public func killAgent(_ node: String) async {
        guard let agent = lock.withLock({ agents.removeValue(forKey: node) }) else { return }
        await agent.halt()
    }

    /// SIGTERM: the agent makes its last decision (`agent-stopping`) and exits.
    public func stopAgent(_ node: String) async throws {
        guard let agent = lock.withLock({ agents.removeValue(forKey: node) }) else { return }
        // As `NodeAgent.loop` under a graceful shutdown: the loop in flight is cancelled
        // (a promotion's wait ends), then the last decision.
        lock.withLock { ticks[node] }?.cancel()
        let stopped = clock.track { await agent.shutdown() }
        try await clock.settle()
        await stopped.value
    }

    /// The whole host is gone: agent, watchdog and server.
    public func loseHost(_ node: String) async {
        await killAgent(node)
        lock.withLock { watchdogs.removeValue(forKey: node) }?.cancel()
        servers.change(node) { $0.running = false }
    }

    /// The host comes back: init starts PostgreSQL (read-only if `standby.signal` is there),
    /// then the agent and its watchdog start.
    public func restoreHost(_ node: String) async {
        servers.boot(node)
        await startAgent(node)
    }

    // MARK: the agents' API between nodes

    /// Cuts (or, with `cut: false`, heals) the agent-API links from `from` to each of `to`.
    public func cutAgentLinks(from: String, to: [String], cut: Bool = true) {
        lock.withLock {
            for target in to {
                if cut { cutLinks.insert([from, target]) } else { cutLinks.remove([from, target]) }
            }
        }
    }

    /// A node's agent API as the other agents reach it: in process, through the cut links.
    struct Peers: FailsafePeers {
        weak var cluster: AgentCluster?
        let from: String

        func ask(_ member: String, _ request: FailsafeRequest, timeout: Duration) async throws -> FailsafeAnswer {
            guard let cluster, !cluster.lock.withLock({ cluster.cutLinks.contains([from, member]) }), let agent = cluster.agent(member) else {
                throw PeerUnreachable(member: member)
            }
            return await agent.answerFailsafe(request)
        }
    }

    struct PeerUnreachable: Error, CustomStringConvertible {
        var member: String
        var description: String { "\(member)'s agent API did not answer" }
    }

    // MARK: time

    /// Runs the world until `end`, one `step` at a time, checking the invariant each step.
    public func run(until end: AgentInstant) async throws {
        while clock.now < end {
            let next = min(end, clock.now + step)
            servers.step()
            try await clock.advance(to: next)
            for (node, agent) in lock.withLock({ agents }) where isDue(node) && !lock.withLock({ busy.contains(node) }) {
                lock.withLock { _ = busy.insert(node) }
                lock.withLock { _ = earlyTicks.removeValue(forKey: node) }
                let tick = clock.track { [self] in
                    let started = clock.now
                    await agent.tick()
                    // An agent that asks for its next loop sooner than the interval (a
                    // leader retrying a missed renewal) gets it, and a loop that overran
                    // its interval is followed at once, as `NodeAgent.loop` does.
                    let pause = await agent.pauseAfterTick(startedAt: started)
                    let regular = config.health.interval - (clock.now - started)
                    lock.withLock {
                        if pause < regular || regular <= .zero { earlyTicks[node] = clock.now + pause }
                        _ = busy.remove(node)
                    }
                }
                lock.withLock { ticks[node] = tick }
            }
            try await clock.settle()
            checkInvariant()
        }
    }

    public func run(for duration: Duration) async throws { try await run(until: clock.now + duration) }

    /// Runs the world in 50 ms steps until `condition` holds or `limit` has passed; whether it held.
    @discardableResult
    public func run(within limit: Duration, until condition: () -> Bool) async throws -> Bool {
        let end = clock.now + limit
        while !condition(), clock.now < end { try await run(for: .milliseconds(50)) }
        return condition()
    }

    /// Agents started and the cluster settled (the primary leads, everyone published).
    public static func bootstrapped(yaml: String = AgentCluster.configuration(), watchdogs: Bool = true) async throws -> AgentCluster {
        let cluster = try AgentCluster(yaml: yaml, watchdogs: watchdogs)
        await cluster.startAll()
        try await cluster.run(for: .seconds(5))
        return cluster
    }

    private func isDue(_ node: String) -> Bool {
        if let early = lock.withLock({ earlyTicks[node] }), clock.now >= early { return true }
        let sinceOffset = clock.now.sinceStart - (offsets[node] ?? .zero)
        guard sinceOffset >= .zero else { return false }
        let interval = config.health.interval
        let phase = sinceOffset.milliseconds % interval.milliseconds
        return phase < step.milliseconds
    }

    private func checkInvariant() {
        let writable = servers.writable
        lock.withLock {
            guard writableChanges.last?.writable != writable else { return }
            writableChanges.append((clock.now, writable))
            if writable.count > 1 { violations.append("from \(clock.now): \(writable.joined(separator: " and ")) accept writes") }
        }
    }

    /// The first step at or after `after` at which `node` started to accept writes.
    public func becameWritable(_ node: String, after: AgentInstant = AgentInstant(.zero)) -> AgentInstant? {
        lock.withLock {
            zip([[]] + writableChanges.map(\.writable), writableChanges).first { previous, change in
                change.at >= after && change.writable.contains(node) && !previous.contains(node)
            }?.1.at
        }
    }

    /// The first step at or after `after` at which `node` stopped accepting writes.
    public func stoppedWriting(_ node: String, after: AgentInstant) -> AgentInstant? {
        lock.withLock { writableChanges.first { $0.at >= after && !$0.writable.contains(node) }?.at }
    }
}
