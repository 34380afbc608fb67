import Foundation

/// What the agent's status page (`GET /`) shows, built from what the serving agent knows:
/// the configuration, the last etcd snapshot its loop read (and how old it is), the failover
/// history, its own view of the managed DNS records, and the repository's newest backups
/// and drill reports. A pure value: `StatusPage.render` turns it into HTML.
public struct StatusPageModel: Sendable {
    /// One configured node as its member record describes it.
    public struct Node: Sendable, Equatable {
        public var name: String
        public var region: String
        /// The region's role in the configuration (`primary`, `hot-standby`, `cold`).
        public var regionRole: String
        /// The member record's role; nil: no record (its agent is not running or cannot reach etcd).
        public var role: NodeRole?
        public var healthy: Bool
        public var leads: Bool
        public var timeline: Int?
        public var lsn: LSN?
        public var lagBytes: UInt64?
        /// The leader's estimate of this standby's loss window.
        public var lagSeconds: Double?
    }

    /// A managed DNS record and whether this agent knows it to point where it should.
    public struct Record: Sendable, Equatable {
        public var name: String
        /// The node it should point at (the leader's), nil without a leader.
        public var wanted: String?
        /// `in sync`, `switching`, `failed`, or `unknown here` (another agent manages it).
        public var state: String
    }

    /// A drill report in the repository.
    public struct Drill: Sendable, Equatable {
        public var id: String
        public var drill: String
        public var startedAt: String
        public var passed: Bool
        public var rtoSeconds: Double?
        public var rpoSeconds: Double?

        public init(id: String, drill: String, startedAt: String, passed: Bool, rtoSeconds: Double?, rpoSeconds: Double?) {
            self.id = id
            self.drill = drill
            self.startedAt = startedAt
            self.passed = passed
            self.rtoSeconds = rtoSeconds
            self.rpoSeconds = rpoSeconds
        }
    }

    public var cluster: String
    public var servedBy: String
    public var generatedAt: Date
    public var refreshSeconds: Int
    public var rto: Duration
    public var rpo: Duration
    /// nil when etcd has never answered this agent.
    public var leader: LeaderRecord?
    public var etcdReachable: Bool
    public var paused: Bool
    public var nodes: [Node]
    /// Regions without nodes (a cold region waiting for `region activate`), with their role.
    public var emptyRegions: [(name: String, role: String)]
    public var records: [Record]
    /// The leader's agent's page, which knows the DNS records' state.
    public var leaderPage: String?
    /// The newest backup of each kind.
    public var backups: [BackupManifest]
    /// Newest first.
    public var failovers: [FailoverEvidence]
    /// Newest first.
    public var drills: [Drill]
    public var warnings: [String]
}

extension StatusPageModel {
    /// What the serving agent knows, gathered by its API handler.
    public struct Inputs: Sendable {
        public var config: ClusterConfig
        public var servedBy: String
        public var now: Date
        /// The last snapshot the agent's loop read, and whether etcd answered its last read.
        public var snapshot: CoordinationSnapshot?
        public var etcdReachable: Bool
        public var history: [FailoverEvidence]
        /// This agent's DNS bookkeeping (only the leader's agent switches records).
        public var dns: [String: DNSRecordState]
        public var backups: [BackupManifest]
        public var drills: [Drill]

        public init(
            config: ClusterConfig, servedBy: String, now: Date, snapshot: CoordinationSnapshot?, etcdReachable: Bool,
            history: [FailoverEvidence] = [], dns: [String: DNSRecordState] = [:], backups: [BackupManifest] = [], drills: [Drill] = []
        ) {
            self.config = config
            self.servedBy = servedBy
            self.now = now
            self.snapshot = snapshot
            self.etcdReachable = etcdReachable
            self.history = history
            self.dns = dns
            self.backups = backups
            self.drills = drills
        }
    }

    /// Builds the page's model, warnings included.
    public init(_ inputs: Inputs, refreshSeconds: Int = 5) {
        let config = inputs.config, snapshot = inputs.snapshot
        let members = Dictionary((snapshot?.members ?? []).map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        let leader = snapshot?.leader
        cluster = config.cluster
        servedBy = inputs.servedBy
        generatedAt = inputs.now
        self.refreshSeconds = refreshSeconds
        rto = config.objectives.rto
        rpo = config.objectives.rpo
        self.leader = leader
        etcdReachable = inputs.etcdReachable
        paused = snapshot?.paused ?? false
        nodes = config.nodes.map { region, node in
            let member = members[node.name]
            return Node(
                name: node.name, region: region.name, regionRole: region.role.rawValue, role: member?.role, healthy: member?.healthy ?? false,
                leads: leader?.node == node.name, timeline: member?.timeline, lsn: member?.lsn, lagBytes: member?.role == .standby ? member?.lagBytes : nil,
                lagSeconds: member?.role == .standby ? snapshot?.progress?.standbyLagSeconds[node.name] : nil)
        }
        emptyRegions = config.regions.filter(\.nodes.isEmpty).map { ($0.name, $0.role.rawValue) }
        leaderPage =
            config.regions.lazy.compactMap { region in
                region.nodes.firstIndex { $0.name == leader?.node }.map { region.apiEndpoint(forNodeAt: $0).url + "/" }
            }.first
        records = config.dns.records.map { record in
            let state: String
            switch inputs.dns[record.name]?.phase {
            case .synced?: state = "in sync"
            case .inFlight?: state = "switching"
            case .failed?: state = "failed"
            case nil: state = "unknown here"
            }
            return Record(name: record.name, wanted: leader?.node, state: state)
        }
        backups = BackupManifest.Kind.allCases.compactMap { kind in inputs.backups.last { $0.kind == kind } }
        failovers = Array(inputs.history.sorted { $0.term > $1.term }.prefix(10))
        drills = Array(inputs.drills.sorted { $0.startedAt > $1.startedAt }.prefix(10))
        warnings = Self.warnings(inputs, members: members)
    }

    /// What needs a person: each line says which node and what to do.
    static func warnings(_ inputs: Inputs, members: [String: MemberRecord]) -> [String] {
        let config = inputs.config, snapshot = inputs.snapshot
        var warnings: [String] = []
        if !inputs.etcdReachable { warnings.append("etcd does not answer this agent: no automatic failover can happen; what follows is the last view it read") }
        if inputs.etcdReachable, snapshot?.leader == nil { warnings.append("no node holds the leader key: nothing accepts writes under drctl") }
        if snapshot?.paused == true { warnings.append("automatic failover is paused (`drctl resume` ends it)") }
        for member in members.values.sorted(by: { $0.name < $1.name }) {
            if member.role == .fenced { warnings.append("\(member.name) is fenced: `drctl rejoin \(member.name)` brings it back as a standby") }
            if member.role == .down, member.building == nil { warnings.append("\(member.name)'s database is down (its agent runs)") }
            if member.role == .standby, !member.healthy { warnings.append("\(member.name) is an unhealthy standby (\(member.failedChecks) failed checks)") }
            if let hold = member.hold { warnings.append("\(member.name): \(hold)") }
            if let building = member.building { warnings.append("\(member.name) is being built as a standby \(building)") }
            if let failure = member.rejoinFailure { warnings.append("\(member.name) could not be brought back as a standby: \(failure)") }
        }
        if inputs.etcdReachable, let snapshot {
            warnings += ClockOffset.problems(
                leader: snapshot.leader, progress: snapshot.progress, members: snapshot.members,
                nowMillis: Int64(inputs.now.timeIntervalSince1970 * 1000), config: config)
        }
        for (region, node) in config.nodes where region.role != .cold && members[node.name] == nil && inputs.etcdReachable {
            warnings.append("\(node.name) publishes no member record: its agent is down or cannot reach etcd")
        }
        let rpo = Double(config.objectives.rpo.components.seconds)
        for (node, seconds) in (snapshot?.progress?.standbyLagSeconds ?? [:]).sorted(by: { $0.key < $1.key }) where seconds > rpo {
            warnings.append("\(node) is \(String(format: "%.1f", seconds)) s behind, beyond the RPO of \(Int(rpo)) s: it would not be promoted automatically")
        }
        for record in config.dns.records {
            if case .failed? = inputs.dns[record.name]?.phase { warnings.append("DNS record \(record.name) could not be switched: the agent retries") }
        }
        for skipped in snapshot?.skipped ?? [] { warnings.append("etcd record \(skipped.key) could not be read: \(skipped.reason)") }
        return warnings
    }
}
