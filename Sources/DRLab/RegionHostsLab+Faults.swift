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

extension RegionHostsLab {
    /// One process of the lab, as `lab status` lists it.
    public struct Process: Codable, Sendable {
        public var host: String
        public var namespace: String
        public var process: String
        public var listens: String
        /// Its PID while it runs; nil when it does not.
        public var pid: Int32?
    }

    /// Every process the lab started, host by host, and whether each runs.
    public func processes() -> [Process] {
        func alive(_ pid: Int32?) -> Int32? { pid.flatMap { ProcessControl.isAlive($0) ? $0 : nil } }
        var list: [Process] = []
        for host in hosts.hosts {
            func add(_ process: String, _ listens: String, _ pid: Int32?) {
                list.append(Process(host: host.region, namespace: host.namespace, process: process, listens: listens, pid: alive(pid)))
            }
            if let member = members.first(where: { $0.namespace == host.namespace }) { add("etcd", member.endpoint, member.pid) }
            for database in databases where database.region == host.region {
                add("postgres \(database.name)", "\(database.host):\(database.port)", try? server(database).pid)
                add("agent", "\(host.address):\(Self.agentPort)", agentPID(host.region))
            }
            if let dns, dns.namespace == host.namespace { add("powerdns \(dns.zone)", "\(dns.host):\(dns.port), api \(dns.apiURL)", dns.pid) }
            if latency > .zero { add("latency relay", "127.0.0.1:7999 (nft redirect)", PIDFile.read("\(dir)/\(host.region)/relay-\(host.region).pid")) }
        }
        return list
    }
}
