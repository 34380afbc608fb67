import DRSystem
import Foundation

/// What `lab up` built, saved as `DIR/lab.json` so that later commands (`status`, `down`,
/// faults) find every server without guessing. PIDs are not saved: they are read live
/// from each server's PID file, so a crashed server shows as not running.
public struct LabState: Codable, Sendable, Equatable {
    public struct Node: Codable, Sendable, Equatable {
        public var name: String
        public var region: String
        public var host: String
        public var port: Int
        public var dataDir: String
        public var logFile: String
    }

    public struct Agent: Codable, Sendable, Equatable {
        public var region: String
        public var stateDir: String
        public var logFile: String
        public var pidFile: String
        /// The agent's HTTP API (the region's address, a free port).
        public var apiHost: String
        public var apiPort: Int
        public var pid: Int32? { PIDFile.read(pidFile) }
        public var apiURL: String { "http://\(apiHost):\(apiPort)" }
    }

    public var dir: String
    public var cluster: String
    public var configFile: String
    public var backupDir: String
    public var nodes: [Node]
    /// The etcd members (one, or a cluster of 3 or 5).
    public var etcd: [EtcdServer]
    public var dns: PowerDNSServer
    /// Agents of the regions that have nodes (empty when the lab was built without them).
    public var agents: [Agent]
    /// The failover settings the lab's config was written with.
    public var failover = LabFailoverSettings()
    /// The drctl executable the lab's agents and archive_command run (nil: no agents, no archiving).
    public var drctlBinary: String? = nil

    static func file(in dir: String) -> String { "\(dir)/lab.json" }

    public static func load(dir: String) throws -> LabState {
        let path = file(in: dir)
        guard let data = FileManager.default.contents(atPath: path) else { throw LabError.notALab(dir: dir) }
        do {
            return try JSONDecoder().decode(LabState.self, from: data)
        } catch {
            throw LabError.io("\(path) is corrupt (\(error)); remove the lab's processes by hand and delete \(dir)")
        }
    }

    func save() throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try encoder.encode(self).write(to: URL(fileURLWithPath: Self.file(in: dir)), options: .atomic)
    }

    public func server(_ node: Node) throws -> PostgresServer {
        try PostgresServer(name: node.name, host: node.host, port: node.port, dataDir: node.dataDir, logFile: node.logFile)
    }

    /// PIDs of every lab server that is running now.
    public func livePIDs() throws -> [Int32] {
        try nodes.compactMap { try server($0).pid } + agents.compactMap(\.pid) + etcd.compactMap(\.pid) + [dns.pid].compactMap { $0 }
    }
}

/// `drctl-lab status --json`: the shape the CLI contract (docs/design.md) promises to tests and scripts.
public struct LabStatus: Codable, Sendable {
    public struct Node: Codable, Sendable {
        public var name: String, region: String, host: String, port: Int
        public var dataDir: String
        public var pid: Int32?
        enum CodingKeys: String, CodingKey { case name, region, host, port, dataDir = "data_dir", pid }
    }
    public struct Agent: Codable, Sendable {
        public var region: String, pid: Int32?
        /// The agent's HTTP API base URL.
        public var api: String?
        public func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(region, forKey: .region); try c.encode(pid, forKey: .pid); try c.encode(api, forKey: .api)
        }
        enum CodingKeys: String, CodingKey { case region, pid, api }
    }
    public struct Etcd: Codable, Sendable { public var endpoint: String, pid: Int32? }
    public struct DNS: Codable, Sendable { public var host: String, port: Int, zone: String, api: String, pid: Int32? }

    public var dir: String
    public var config: String
    public var nodes: [Node]
    public var agents: [Agent]
    /// The first member, in the shape the CLI contract (docs/design.md) gives; all of them in `etcdMembers`.
    public var etcd: Etcd
    public var etcdMembers: [Etcd]
    public var dns: DNS

    public init(_ state: LabState) throws {
        dir = state.dir
        config = state.configFile
        nodes = try state.nodes.map { node in
            Node(name: node.name, region: node.region, host: node.host, port: node.port, dataDir: node.dataDir, pid: try state.server(node).pid)
        }
        agents = state.agents.map { Agent(region: $0.region, pid: $0.pid, api: $0.apiURL) }
        etcdMembers = state.etcd.map { Etcd(endpoint: $0.endpoint, pid: $0.pid) }
        etcd = etcdMembers[0]
        dns = DNS(host: state.dns.host, port: state.dns.port, zone: state.dns.zone, api: state.dns.apiURL, pid: state.dns.pid)
    }

    // Explicit nulls: a test reads `pid: null` as "not running", not as a missing field.
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(dir, forKey: .dir)
        try c.encode(config, forKey: .config)
        try c.encode(nodes, forKey: .nodes)
        try c.encode(agents, forKey: .agents)
        try c.encode(etcd, forKey: .etcd)
        try c.encode(etcdMembers, forKey: .etcdMembers)
        try c.encode(dns, forKey: .dns)
    }
    enum CodingKeys: String, CodingKey { case dir, config, nodes, agents, etcd, etcdMembers = "etcd_members", dns }
}

extension LabStatus.Node {
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(name, forKey: .name); try c.encode(region, forKey: .region)
        try c.encode(host, forKey: .host); try c.encode(port, forKey: .port)
        try c.encode(dataDir, forKey: .dataDir); try c.encode(pid, forKey: .pid)
    }
}

extension LabStatus.Etcd {
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(endpoint, forKey: .endpoint); try c.encode(pid, forKey: .pid)
    }
    enum CodingKeys: String, CodingKey { case endpoint, pid }
}

extension LabStatus.DNS {
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(host, forKey: .host); try c.encode(port, forKey: .port); try c.encode(zone, forKey: .zone)
        try c.encode(api, forKey: .api); try c.encode(pid, forKey: .pid)
    }
    enum CodingKeys: String, CodingKey { case host, port, zone, api, pid }
}

/// The `failover:` settings a lab can be built with (the rest are the lab's fixed values).
public struct LabFailoverSettings: Codable, Sendable, Equatable {
    /// `failover.synchronous`: commits wait for a standby.
    public var synchronous = false
    /// `failover.restart_attempts`.
    public var restartAttempts = 0
    /// `failover.auto_rejoin`: a fenced old primary comes back as a standby on its own.
    public var autoRejoin = false
    /// Top-level YAML appended to the config as is (e.g. a `schedules:` section).
    public var extraConfig = ""
    /// `dns.recheck_interval` (e.g. `2s`); nil keeps the default.
    public var dnsRecheckInterval: String? = nil
    /// `failover.synchronous_strict` (nil: false; optional so older lab.json files read).
    public var synchronousStrict: Bool? = nil
    /// `health.interval` (e.g. `1s`); nil keeps the lab's 500 ms.
    public var healthInterval: String? = nil
    /// `failover.failsafe` (nil: false; optional so older lab.json files read).
    public var failsafe: Bool? = nil
    /// `coordination.lease_ttl` (e.g. `4s`); nil keeps the lab's 2 s.
    public var leaseTTL: String? = nil
    /// With three etcd members: region N names member eN (`regions[].etcd_member`), so the
    /// leader's agent keeps etcd's raft leader out of its region (nil: false).
    public var etcdPlacement: Bool? = nil

    public init(
        synchronous: Bool = false, restartAttempts: Int = 0, autoRejoin: Bool = false, extraConfig: String = "",
        dnsRecheckInterval: String? = nil, synchronousStrict: Bool = false, healthInterval: String? = nil, failsafe: Bool = false,
        leaseTTL: String? = nil, etcdPlacement: Bool = false
    ) {
        self.etcdPlacement = etcdPlacement
        self.leaseTTL = leaseTTL
        self.failsafe = failsafe
        self.healthInterval = healthInterval
        self.synchronous = synchronous
        self.synchronousStrict = synchronousStrict
        self.restartAttempts = restartAttempts
        self.autoRejoin = autoRejoin
        self.extraConfig = extraConfig
        self.dnsRecheckInterval = dnsRecheckInterval
    }
}

extension LabState {
    /// The agents' shared failsafe secret, written by `lab up --failsafe`.
    public var failsafeSecretFile: String { "\(dir)/secrets/failsafe-secret" }
}
