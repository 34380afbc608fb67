import DRSystem
import Foundation

/// The loopback lab's process faults on the regions topology: a stalled agent, an etcd
/// member lost (a given region's, or whichever leads now) and its restart, and a lost host
/// booting again.
extension RegionHostsLab {
    /// SIGSTOP (`freeze: true`) or SIGCONT the agent of `region`. Returns its PID.
    @discardableResult
    public func freezeAgent(_ region: String, _ freeze: Bool) throws -> Int32 {
        guard let pid = agentPID(region) else { throw LabError.io("no running agent in \(region)") }
        kill(pid, freeze ? SIGSTOP : SIGCONT)
        return pid
    }

    /// SIGKILLs the etcd member of `region`, or etcd's raft leader when nil. Returns the
    /// region whose member was killed (nil: none ran, or no member knew a leader).
    @discardableResult
    public func killEtcd(_ region: String? = nil) async throws -> String? {
        let member: EtcdServer?
        if let region {
            guard let namespace = namespace(region) else { throw LabError.io("no region \(region) in this lab") }
            member = members.first { $0.namespace == namespace }
        } else {
            member = await EtcdServer.leader(of: members)
        }
        guard let member, let pid = member.pid, ProcessControl.isAlive(pid) else { return nil }
        kill(pid, SIGKILL)
        _ = await ProcessControl.waitForExit(pid, within: .seconds(5))
        return hosts.hosts.first { $0.namespace == member.namespace }?.region
    }

    /// Starts every etcd member that does not run (its data directory keeps its membership)
    /// and waits until each is healthy. Returns the regions whose member was started.
    @discardableResult
    public func startStoppedEtcdMembers() async throws -> [String] {
        var started: [String] = []
        for member in members where !(member.pid.map(ProcessControl.isAlive) ?? false) {
            try await member.start()
            started += hosts.hosts.filter { $0.namespace == member.namespace }.map(\.region)
        }
        return started
    }

    /// `region`'s host boots again after `loseHost`: init starts its relay (its namespace
    /// kept the redirect rules), its etcd member, its database and its agent, each unless it
    /// runs. Returns what it started.
    @discardableResult
    public func restoreHost(_ region: String) async throws -> [String] {
        guard let host = hosts.hosts.first(where: { $0.region == region }) else { throw LabError.io("no region \(region) in this lab") }
        guard let binary else { throw LabError.io("this lab was recorded without its drctl binary: bring it down and up again") }
        var started: [String] = []
        let relayPID = PIDFile.read("\(dir)/\(region)/relay-\(region).pid")
        if latency > .zero, !(relayPID.map(ProcessControl.isAlive) ?? false) {
            try await hosts.startRelay(
                in: host, binary: binary, latency: latency, jitter: jitter ?? .zero, loss: loss ?? 0, stateDir: "\(dir)/\(region)", redirect: false)
            started.append("relay")
        }
        if let member = members.first(where: { $0.namespace == host.namespace }), !(member.pid.map(ProcessControl.isAlive) ?? false) {
            try await member.start()
            started.append("etcd")
        }
        for database in databases where database.region == region {
            if try await startDatabase(database) { started.append(database.name) }
            if !(agentPID(region).map(ProcessControl.isAlive) ?? false) {
                try startAgent(of: database, binary: binary)
                started.append("agent")
            }
        }
        return started
    }

    /// Starts `database` unless it runs, as init would after a crash.
    @discardableResult
    public func startDatabase(_ database: Database) async throws -> Bool { try await server(database).startUnlessRunning() }
}
