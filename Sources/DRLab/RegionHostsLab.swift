import DRCore
import DRSystem
import Foundation

/// Regions as hosts (issue 12): three region namespaces on the lab's bridge (`LabHosts`),
/// inter-region latency through each region's relay, one etcd member per region on its
/// region's address, and optionally region1's primary and region2's standby with an agent
/// beside each — nothing shared but the network, except the data directories' parent (the
/// lab's own directory) and the drctl binary. The loopback lab (`Lab`) stays the default;
/// `drctl-lab up --hosts` runs this one with databases, agents and PowerDNS, which answers
/// from a `dns` host of its own (the agents switch its record over the network, clients
/// query it from their region). Backups are not part of it yet.
///
/// Everything it starts runs inside its namespaces: `down` stops the agents and databases,
/// then removes the namespaces (what `regions.json` records, or anything with the prefix).
public struct RegionHostsLab: Codable, Sendable, Equatable {
    public var dir: String
    public var hosts: LabHosts
    public var members: [EtcdServer]
    /// region1's primary and region2's standby, when the lab has databases.
    public var databases: [Database] = []
    /// The authoritative DNS server in the `dns` host, when the lab has agents.
    public var dns: PowerDNSServer?
    public var latency: Duration
    /// The relays' jitter and loss, and the drctl they run (for `restoreHost`; nil in a
    /// lab recorded before they were kept).
    public var jitter: Duration?
    public var loss: Double?
    public var binary: String?
    /// `failover.auto_rejoin` in the lab's configuration (nil: false).
    public var autoRejoin: Bool?
    /// Whether the configuration names each region's etcd member (`regions[].etcd_member`),
    /// so the leader's agent keeps etcd's raft leader out of its region (nil: false).
    public var etcdPlacement: Bool?
    public static let regions = ["region1", "region2", "region3"]

    public static func file(in dir: String) -> String { "\(dir)/regions.json" }

    /// The members' client URLs, each region's own first for `region`.
    public func endpoints(from region: String = "region1") -> [String] {
        let own = members.filter { $0.namespace == hosts.hosts.first { $0.region == region }?.namespace }
        return (own + members.filter { !own.contains($0) }).map(\.endpoint)
    }

    /// The namespace `region` runs in.
    public func namespace(_ region: String) -> String? { hosts.hosts.first { $0.region == region }?.namespace }

    /// Creates the namespaces, starts a relay in each when `latency` is above zero (the
    /// round trip between any two regions), and one etcd member per region with etcd's
    /// default raft timing. On failure removes whatever it made.
    ///
    /// - Parameters:
    ///   - binary: the `drctl` executable whose hidden `lab relay` delays traffic.
    ///   - databases: also a primary in region1 and its streaming standby in region2.
    ///   - agents: also an agent beside each database (implies `databases`).
    ///   - autoRejoin: `failover.auto_rejoin` for them (a deposed primary rewinds and streams).
    ///   - etcdPlacement: name each region's etcd member in the configuration (as
    ///     recommended), so the leader's agent keeps etcd's leader out of its region.
    public static func up(
        dir: String, binary: String, latency: Duration, jitter: Duration = .zero, loss: Double = 0, databases: Bool = false,
        agents: Bool = false, autoRejoin: Bool = false, etcdPlacement: Bool = true, progress: @Sendable (String) -> Void = { _ in }
    ) async throws -> RegionHostsLab {
        guard !FileManager.default.fileExists(atPath: file(in: dir)) else { throw LabError.alreadyRunning(dir: dir, pids: []) }
        for program in ["etcd", "etcdctl", "ip", "nft", "psql"] { _ = try CommandRunner.resolve(program) }
        let madeDir = !FileManager.default.fileExists(atPath: dir)
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let hosts = LabHosts.plan(dir: dir, regions: regions + (agents ? [dnsHost] : []))
        let members = EtcdServer.cluster(
            hosts.hosts.filter { regions.contains($0.region) }.map { host in
                var member = EtcdServer(
                    host: host.address, clientPort: 2379, peerPort: 2380, dataDir: "\(dir)/\(host.region)/etcd/data",
                    logFile: "\(dir)/\(host.region)/etcd/etcd.log", pidFile: "\(dir)/\(host.region)/etcd/etcd.pid")
                member.namespace = host.namespace
                member.heartbeatMillis = 100
                member.electionMillis = 1000
                member.preVote = true
                return member
            })
        var lab = RegionHostsLab(dir: dir, hosts: hosts, members: members, latency: latency)
        (lab.jitter, lab.loss, lab.binary, lab.autoRejoin, lab.etcdPlacement) = (jitter, loss, binary, autoRejoin, etcdPlacement)
        if databases || agents { lab.databases = plannedDatabases(dir: dir, hosts: hosts) }
        if agents { lab.dns = plannedDNS(dir: dir, hosts: hosts) }
        // Recorded first: from here on `down` can remove whatever gets made.
        try JSONEncoder().encode(lab).write(to: URL(fileURLWithPath: file(in: dir)))
        do {
            progress("network: namespaces \(hosts.hosts.map(\.namespace).joined(separator: ", ")) on bridge \(hosts.bridgeNamespace), \(LabHosts.subnet).0/24")
            try await hosts.create()
            if latency > .zero {
                progress("latency: \(DurationText.format(latency)) round trip between regions (jitter \(DurationText.format(jitter)), loss \(loss))")
                for host in hosts.hosts {
                    try await hosts.startRelay(in: host, binary: binary, latency: latency, jitter: jitter, loss: loss, stateDir: "\(dir)/\(host.region)")
                }
            }
            for member in members {
                try FileManager.default.createDirectory(atPath: (member.logFile as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            }
            progress("etcd: one member per region on \(members.map(\.endpoint).joined(separator: ", "))")
            try await EtcdServer.start(members)
            try await lab.startDatabases(progress: progress)
            try await lab.startDNS(progress: progress)
            if agents { try await lab.startAgents(binary: binary, progress: progress) }
            return lab
        } catch {
            await lab.stopServers()
            await hosts.remove()
            // Its databases' and members' directories too, unless the directory was the caller's.
            try? FileManager.default.removeItem(atPath: madeDir ? dir : file(in: dir))
            throw error
        }
    }

    /// The lab recorded in `dir`.
    public static func load(dir: String) throws -> RegionHostsLab {
        guard let data = FileManager.default.contents(atPath: file(in: dir)) else {
            throw LabError.io("no regions lab in \(dir) (start one with drctl-lab regions up --dir \(dir))")
        }
        return try JSONDecoder().decode(RegionHostsLab.self, from: data)
    }

    /// Stops everything the lab in `dir` started and removes its namespaces and `dir`;
    /// nothing to do when none is recorded there.
    public static func down(dir: String) async throws {
        guard FileManager.default.fileExists(atPath: file(in: dir)) else { return }
        let lab = try load(dir: dir)
        await lab.stopServers()
        await lab.hosts.remove()
        if !lab.hosts.leftovers.isEmpty { throw LabError.io("namespaces left behind: \(lab.hosts.leftovers.joined(separator: ", "))") }
        // Anything of the lab outside its namespaces (a crashed `up`'s helpers) goes too.
        for pid in ProcessControl.processes(mentioning: dir + "/") { try? await ProcessControl.stop(pid, grace: .seconds(5), name: "lab process") }
        try FileManager.default.removeItem(atPath: dir)
    }

    /// Stops the agents, then the databases cleanly (a SIGKILLed postmaster leaves its
    /// shared memory; an agent seeing its database stop would restart it or fail over).
    func stopServers() async {
        for region in Self.regions {
            if let pid = agentPID(region) { try? await ProcessControl.stop(pid, grace: .seconds(10), name: "agent \(region)") }
        }
        await stopDatabases()
        try? await dns?.stop()
    }

    /// Runs `command` in `region`'s namespace (as that region's host would), as root.
    public func run(in region: String, _ command: [String], check: Bool = true) async throws -> CommandRunner.Output {
        guard let namespace = namespace(region) else { throw LabError.io("no region \(region) in this lab") }
        return try await CommandRunner.run(["ip", "netns", "exec", namespace] + command, check: check)
    }
}

extension RegionHostsLab {
    /// The regions lab recorded in `dir` (relative paths against the working directory);
    /// nil when `dir` holds none (a loopback lab, or nothing).
    public static func recorded(in dir: String) throws -> RegionHostsLab? {
        let dir = Lab.absolute(dir)
        guard FileManager.default.fileExists(atPath: file(in: dir)) else { return nil }
        return try load(dir: dir)
    }

    /// The region of the database named `node`.
    public func region(of node: String) throws -> String {
        guard let database = databases.first(where: { $0.name == node }) else {
            throw LabError.io("no database named \(node) in this lab (databases: \(databases.map(\.name).joined(separator: ", ")))")
        }
        return database.region
    }
}

extension RegionHostsLab {
    /// One process of the lab, as `lab status` lists it.
    public struct HostProcess: Codable, Sendable {
        public var host: String
        public var namespace: String
        public var process: String
        public var listens: String
        /// Its PID while it runs; nil when it does not.
        public var pid: Int32?
    }

    /// Every process the lab started, host by host, and whether each runs.
    public func processes() -> [HostProcess] {
        func alive(_ pid: Int32?) -> Int32? { pid.flatMap { ProcessControl.isAlive($0) ? $0 : nil } }
        var list: [HostProcess] = []
        for host in hosts.hosts {
            func add(_ process: String, _ listens: String, _ pid: Int32?) {
                list.append(HostProcess(host: host.region, namespace: host.namespace, process: process, listens: listens, pid: alive(pid)))
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
