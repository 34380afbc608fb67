import DRSystem
import Foundation

/// The loopback lab's process faults on the regions topology: a stalled agent, an etcd
/// member lost (a given region's, or whichever leads now) and its restart.
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
}
