import DRCoordination
import DRCore
import DRSystem
import Foundation

/// The lab's agents: one `drctl agent` per region with nodes, as background processes.
enum LabAgents {
    /// Starts region 1's agent and waits until it holds the leader key, then the others;
    /// returns once the primary's progress and every agent's member record are in etcd.
    /// Until then a switchover refuses ("no live agent publishing its state") and a lost
    /// primary makes a standby hold for an operator, so the lab is not yet "up" (a runbook
    /// test ran a switchover in that window on CI).
    static func start(_ state: LabState, binary: String, progress: @Sendable (String) -> Void) async throws {
        let text = try String(contentsOfFile: state.configFile, encoding: .utf8)
        let config = try ConfigLoader.load(yaml: text, file: state.configFile)
        let coordinator = try EtcdCoordinator.forConfig(config)
        for (index, agent) in state.agents.enumerated() {
            let pid = try launch(agent, state, binary: binary)
            progress("\(agent.region): agent started (pid \(pid), log \(agent.logFile))")
            if index == 0 {
                let primary = state.nodes.first { $0.region == agent.region }?.name
                try await Readiness.wait(for: "agent \(agent.region) taking the leader key", log: agent.logFile, pid: pid) {
                    (try? await coordinator.leader())??.node == primary
                }
            }
        }
        let managed = Set(state.agents.map(\.region))
        let expected = Set(state.nodes.filter { managed.contains($0.region) }.map(\.name))
        do {
            try await Readiness.wait(for: "the primary's progress and every member's record in etcd", log: state.agents.last?.logFile ?? "", pid: nil) {
                guard (try? await coordinator.progress()) != nil else { return false }
                let published = Set(((try? await coordinator.members()) ?? []).map(\.name))
                return expected.isSubset(of: published)
            }
        } catch SystemError.timeout(let what, let limit, _) {
            // The lab's directory goes with a failed test: say here what was missing and
            // what each agent last logged (a CI run failed here once with nothing to go on).
            let snapshot = try? await coordinator.snapshot()
            let published = Set(snapshot?.members.map(\.name) ?? [])
            var lines = [
                "\(what) did not happen within \(DurationText.format(limit)): progress \(snapshot?.progress == nil ? "missing" : "present"), leader \(snapshot?.leader?.node ?? "none"), member records missing for \(expected.subtracting(published).sorted())"
                    + (snapshot?.skipped.isEmpty == false ? ", records skipped: \(snapshot?.skipped.map(\.description) ?? [])" : "")
            ]
            for agent in state.agents {
                let tail = (try? String(contentsOfFile: agent.logFile, encoding: .utf8))?.split(separator: "\n").suffix(12).joined(separator: "\n") ?? "(no log)"
                lines.append("last lines of \(agent.region)'s agent log:\n\(tail)")
            }
            throw LabError.io(lines.joined(separator: "\n"))
        }
    }

    static func launch(_ agent: LabState.Agent, _ state: LabState, binary: String) throws -> Int32 {
        try FileManager.default.createDirectory(atPath: agent.stateDir, withIntermediateDirectories: true)
        let pid = try ProcessControl.spawnDaemon(
            [
                binary, "agent", "--region", agent.region, "--config", state.configFile, "--state-dir", agent.stateDir,
                "--source-address", regionAddress(agent.region, state),
            ],
            logFile: agent.logFile)
        try PIDFile.write(pid, to: agent.pidFile)
        return pid
    }

    static func regionAddress(_ region: String, _ state: LabState) -> String {
        state.nodes.first { $0.region == region }?.host ?? "127.0.0.1"
    }

    /// SIGKILLs a node's postmaster and its region's agent: the whole node is lost.
    static func kill(_ state: LabState, node name: String) async throws -> [Int32] {
        let node = try node(named: name, in: state)
        var killed: [Int32] = []
        if let agent = state.agents.first(where: { $0.region == node.region }), let pid = agent.pid {
            Glibc.kill(pid, SIGKILL)
            killed.append(pid)
        }
        if let pid = try state.server(node).pid {
            Glibc.kill(pid, SIGKILL)
            killed.append(pid)
        }
        for pid in killed { _ = await ProcessControl.waitForExit(pid, within: .seconds(5)) }
        return killed
    }

    /// SIGSTOP (`freeze: true`) or SIGCONT the node's region agent: a stalled agent.
    static func freeze(_ state: LabState, node name: String, _ freeze: Bool) throws -> Int32 {
        let node = try node(named: name, in: state)
        guard let agent = state.agents.first(where: { $0.region == node.region }), let pid = agent.pid else {
            throw LabError.io("no running agent in \(node.region)")
        }
        Glibc.kill(pid, freeze ? SIGSTOP : SIGCONT)
        return pid
    }

    private static func node(named name: String, in state: LabState) throws -> LabState.Node {
        guard let node = state.nodes.first(where: { $0.name == name }) else {
            throw LabError.io("no lab node named \(name) (nodes: \(state.nodes.map(\.name).joined(separator: ", ")))")
        }
        return node
    }
}

extension Lab {
    /// Starts a region's agent again (after `lab kill` or a crash); refuses while it runs.
    public static func startAgent(dir: String, region: String, binary: String) throws -> Int32 {
        let state = try LabState.load(dir: absolute(dir))
        guard let agent = state.agents.first(where: { $0.region == region }) else { throw LabError.io("no agent for region \(region)") }
        if let pid = agent.pid { throw LabError.io("the agent of \(region) is running (pid \(pid))") }
        return try LabAgents.launch(agent, state, binary: binary)
    }

    public static func kill(dir: String, node: String) async throws -> [Int32] {
        try await LabAgents.kill(LabState.load(dir: absolute(dir)), node: node)
    }

    public static func freeze(dir: String, node: String, _ freeze: Bool) throws -> Int32 {
        try LabAgents.freeze(LabState.load(dir: absolute(dir)), node: node, freeze)
    }
}
