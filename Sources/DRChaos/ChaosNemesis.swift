import DRCore
import DRLab
import DRSystem
import Foundation

/// Injects a plan's faults into the loopback lab and heals them, through the lab's own
/// controls and signals to the processes it started (found by PID, never by name on the
/// whole host).
struct ChaosNemesis: ChaosTarget {
    let lab: LabState
    /// The drctl executable the lab's agents run.
    let binary: String

    var configFile: String { lab.configFile }
    var nodes: [ChaosNode] { lab.nodes.map { ChaosNode(name: $0.name, region: $0.region, host: $0.host, port: $0.port) } }

    /// Injects `step`; an operator's request runs on in the background and its task
    /// returns what the command answered.
    func inject(_ step: ChaosPlan.Step) async throws -> Task<String, Never>? {
        let node = try lab.node(named: step.node)
        switch step.fault {
        case .killNode:
            _ = try await Lab.kill(dir: lab.dir, node: node.name)
        case .killPostmaster:
            if let pid = try lab.server(node).pid { await signal(pid, SIGKILL) }
        case .freezePostgres:
            for pid in try serverProcesses(node) { kill(pid, SIGSTOP) }
        case .freezePostmaster:
            if let pid = try lab.server(node).pid { kill(pid, SIGSTOP) }
        case .freezeAgent:
            _ = try Lab.freeze(dir: lab.dir, node: node.name, true)
        case .isolateRegion:
            try await Lab.isolate(dir: lab.dir, region: node.region)
        case .cutEtcd, .cutReplication, .loseEtcdAnswers:
            try await Lab.isolate(dir: lab.dir, region: node.region, step.fault.cut)
        case .killEtcd:
            if let pid = etcdMember(for: node).pid { await signal(pid, SIGKILL) }
        case .killEtcdLeader:
            if let pid = await EtcdServer.leader(of: lab.etcd)?.pid { await signal(pid, SIGKILL) }
        case .stallDNS:
            if let pid = lab.dns.pid { kill(pid, SIGSTOP) }
        case .fillRepository:
            try await Lab.fillRepository(dir: lab.dir)
        case .restartAgent:
            if let pid = lab.agent(of: node)?.pid { await signal(pid, SIGTERM, wait: .seconds(15)) }
        case .reboot:
            // The whole host stops at once: agent, watchdog, PostgreSQL; then init starts
            // PostgreSQL and the agent (which starts its watchdog).
            if let pid = lab.agent(of: node)?.pid { await signal(pid, SIGKILL) }
            for pid in watchdogs(of: node) { await signal(pid, SIGKILL) }
            if let pid = try lab.server(node).pid {
                let backends = LabProcesses.children(of: pid)
                await signal(pid, SIGKILL)
                for backend in backends { await signal(backend, SIGKILL) }
            }
            try await heal(step)
        case .switchover, .pause, .failover, .rejoin:
            return try await operatorAction(step)
        }
        return nil
    }

    func heal(_ step: ChaosPlan.Step) async throws {
        let node = try lab.node(named: step.node)
        switch step.fault {
        case .killNode, .reboot:
            try await startServer(node)
            try startAgent(of: node)
        case .killPostmaster:
            // Init starting it again (the agent may have restarted or rejoined it already).
            try await startServer(node)
        case .freezePostgres:
            for pid in try serverProcesses(node) { kill(pid, SIGCONT) }
        case .freezePostmaster:
            // Whatever the fence did meanwhile: a killed postmaster has nothing to continue.
            if let pid = try lab.server(node).pid { kill(pid, SIGCONT) }
        case .freezeAgent:
            _ = try Lab.freeze(dir: lab.dir, node: node.name, false)
        case .isolateRegion:
            try await Lab.heal(dir: lab.dir, region: node.region)
        case .cutEtcd, .cutReplication, .loseEtcdAnswers:
            try await Lab.heal(dir: lab.dir, region: node.region, step.fault.cut)
        case .killEtcd, .killEtcdLeader:
            // Every member that is down: the leader killed is not known any more.
            for member in lab.etcd where member.pid == nil { try await member.start() }
        case .stallDNS:
            if let pid = lab.dns.pid { kill(pid, SIGCONT) }
        case .fillRepository:
            try await Lab.freeRepository(dir: lab.dir)
        case .restartAgent:
            try startAgent(of: node)
        case .switchover, .failover, .rejoin, .pause:
            try await endOperatorAction(step)
        }
    }

    /// The etcd member a step on `node` hits: the node's position among the lab's nodes
    /// picks one (with a single member, that one: all of etcd).
    private func etcdMember(for node: LabState.Node) -> EtcdServer {
        let index = lab.nodes.firstIndex(of: node) ?? 0
        return lab.etcd[index % lab.etcd.count]
    }

    /// The postmaster and its backends (none when it does not run).
    private func serverProcesses(_ node: LabState.Node) throws -> [Int32] {
        guard let pid = try lab.server(node).pid else { return [] }
        return [pid] + LabProcesses.children(of: pid)
    }

    private func startServer(_ node: LabState.Node) async throws { try await lab.server(node).startUnlessRunning() }

    private func startAgent(of node: LabState.Node) throws {
        guard lab.agent(of: node)?.pid == nil else { return }
        _ = try Lab.startAgent(dir: lab.dir, region: node.region, binary: binary)
    }

    private func signal(_ pid: Int32, _ signal: Int32, wait: Duration = .seconds(5)) async {
        kill(pid, signal)
        if signal == SIGKILL || signal == SIGTERM { _ = await ProcessControl.waitForExit(pid, within: wait) }
    }

    /// The node's watchdog processes: children of this lab's agents, found in /proc by the
    /// lab's config file and the node's name in their command line.
    func watchdogs(of node: LabState.Node) -> [Int32] {
        LabProcesses.matching(["watchdog", "--config", lab.configFile, "--node", node.name])
    }
}

extension LabState {
    func node(named name: String) throws -> Node {
        guard let node = nodes.first(where: { $0.name == name }) else { throw LabError.io("no lab node named \(name)") }
        return node
    }

    func agent(of node: Node) -> Agent? { agents.first { $0.region == node.region } }
}
