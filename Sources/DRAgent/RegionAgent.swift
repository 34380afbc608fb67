import DRCoordination
import DRCore
import DRSystem
import Foundation
import Logging
import ServiceLifecycle

/// `drctl agent --region R`: for each node of the region its `NodeAgent` loop and its HTTP
/// API, as services of one ServiceGroup. SIGTERM or SIGINT shuts them down gracefully:
/// the loops first (each shuts its node down safely, see `NodeAgent.shutdown`), while the
/// APIs still answer load balancers with the truth (a fenced primary answers 503), then the APIs.
public enum RegionAgent {
    /// - Parameter watchdogCommand: how to start `drctl watchdog` (the executable and its
    ///   arguments up to the node), one per node; nil runs without the watchdog process.
    /// - Parameter jobs: the config file and drctl executable for scheduled jobs (restore
    ///   drills need both); nil runs no scheduler.
    public static func run(
        config: ClusterConfig, region name: String, stateDir: String, sourceAddress: String? = nil,
        watchdogCommand: [String]? = nil, jobs: (configFile: String, drctl: String)? = nil
    ) async throws {
        guard let region = config.regions.first(where: { $0.name == name }) else {
            throw AgentError.noNodes(region: name)
        }
        guard !region.nodes.isEmpty else { throw AgentError.noNodes(region: name) }
        try FileManager.default.createDirectory(atPath: stateDir, withIntermediateDirectories: true)
        // SIGHUP reloads (`ConfigReloader`); until that service listens, one must not kill the agent.
        signal(SIGHUP, SIG_IGN)
        FileManager.default.createFile(atPath: ConfigReloader.pidFile(stateDir: stateDir), contents: Data("\(getpid())\n".utf8))
        let hash = jobs.map { LiveConfig.hash(ofFile: $0.configFile) } ?? ""
        let live = LiveConfig(config, hash: hash)
        let coordinator = try EtcdCoordinator.forConfig(config, sourceAddress: sourceAddress)
        let board = AgentStateBoard()
        let metrics = AgentMetrics(cluster: config.cluster)
        metrics.bootstrap()
        metrics.prepare(nodes: region.nodes.map(\.name), records: config.dns.records.map(\.name))
        let log = Logger(label: "drctl.agent")
        let authenticator = try FailsafeAuthenticator.load(config)
        var notifyLog = log
        notifyLog[metadataKey: "region"] = "\(region.name)"
        // Also without channels: a reload may add some.
        let dispatcher = NotificationDispatcher(
            channels: { live.value.notifications }, claim: { key in try await coordinator.claimNotification(key) }, log: notifyLog)
        let notifier: any Notifier = dispatcher
        var apis: [any Service] = []
        var agents: [NodeAgent] = []
        for (index, node) in region.nodes.enumerated() {
            var nodeLog = log
            nodeLog[metadataKey: "node"] = "\(node.name)"
            // Building a standby from the repository needs drctl for its restore_command.
            let database = PostgresController(
                node: node, promotionTimeout: config.failover.promotionTimeout, healthTimeout: config.health.timeout,
                repository: jobs.map { StandbyClone.RepositorySource(config: config, drctl: $0.drctl, configFile: $0.configFile) })
            let agent = NodeAgent(
                config: config, region: region, node: node, coordinator: coordinator, stateDir: stateDir, log: nodeLog, database: database,
                board: board, metrics: metrics, watchdogGuardsLease: watchdogCommand != nil,
                failsafePeers: HTTPFailsafePeers(config: config, sourceAddress: sourceAddress, authenticator: authenticator), notifier: notifier,
                recordHookRun: { [nodeLog] run in
                    do { try await coordinator.appendHookRun(run) } catch {
                        nodeLog.warning("the hook's run could not be recorded in etcd's history", metadata: ["error": "\(error)"])
                    }
                })
            await agent.setConfigHash(hash)
            agents.append(agent)
            var api = AgentAPI(
                node: node.name, endpoint: region.apiEndpoint(forNodeAt: index), board: board, metrics: metrics,
                staleAfter: AgentAPI.staleAfter(config), log: nodeLog, failsafe: { request in await agent.answerFailsafe(request) },
                authenticator: authenticator, page: StatusPageSource(config: live, node: node.name, board: board))
            api.live = live
            apis.append(api)
            nodeLog.info("HTTP API and status page", metadata: ["url": "\(region.apiEndpoint(forNodeAt: index).url)"])
        }
        // Each agent looks at its database and takes over (or voids) the lease published
        // before it started *before* the watchdogs start: a watchdog reading a lease from
        // before a reboot would otherwise stop a server that init brought up read-only.
        // Meanwhile the previous agent's watchdog, if it still runs, guards that lease.
        for agent in agents { await agent.start() }
        var supervisor: [any Service] = []
        if let watchdogCommand {
            for node in region.nodes {
                try WatchdogSupervisor.start(command: watchdogCommand, node: node.name, stateDir: stateDir, agentPID: getpid())
            }
            supervisor.append(WatchdogSupervisor(command: watchdogCommand, nodes: region.nodes.map(\.name), stateDir: stateDir, log: log))
        }
        var scheduler: [any Service] = []
        // Also without a repository: it lists the failover history for the status page.
        if let jobs {
            var jobLog = log
            jobLog[metadataKey: "region"] = "\(region.name)"
            scheduler.append(
                JobScheduler(
                    config: live, configFile: jobs.configFile, drctl: jobs.drctl, coordinator: coordinator,
                    holder: region.name, metrics: metrics, board: board, notifier: notifier, log: jobLog))
        }
        var preflightLog = log
        preflightLog[metadataKey: "region"] = "\(region.name)"
        let preflight = PreflightService(
            live: live, region: region.name, coordinator: coordinator, board: board, metrics: metrics, sourceAddress: sourceAddress, log: preflightLog)
        var placement: [any Service] = []
        if EtcdLeaderKeeper.applies(to: config) {
            placement.append(
                EtcdLeaderKeeper(
                    live: live, region: region.name, nodes: region.nodes.map(\.name), coordinator: coordinator, board: board, metrics: metrics,
                    log: preflightLog))
        }
        // Services stop in reverse order: the loops (last) first, then the scheduler and preflight, then the APIs
        // and the notifications (which may still carry what the loops reported last).
        let loops: [any Service] = agents.map(NodeAgentService.init(agent:))
        let senders: [any Service] = [dispatcher]
        // Stops first: no reload lands while the loops shut down.
        let reloader: [any Service] =
            jobs.map { [ConfigReloader(file: $0.configFile, stateDir: stateDir, live: live, agents: agents, log: log)] } ?? []
        // The supervisor stops right after the loops: a stopping agent leaves its watchdog
        // running (it guards the lease until a restarted agent renews), but starts no new one.
        let group = ServiceGroup(
            services: senders + apis + [preflight] + placement + scheduler + supervisor + loops + reloader, gracefulShutdownSignals: [.sigterm, .sigint], logger: log)
        try await group.run()
    }
}

/// A node's loop as a service (its agent already started): on graceful shutdown its loop
/// ends and it shuts its node down safely before returning.
struct NodeAgentService: Service {
    let agent: NodeAgent

    func run() async throws {
        await cancelWhenGracefulShutdown { await agent.loop() }
    }
}
