/// drctl's configuration, as validated by `ConfigLoader`: one cluster, its regions and
/// nodes, the objectives it must meet and the services drctl drives for it.
///
/// Every value here has already passed validation, so consumers never re-check shapes.
public struct ClusterConfig: Sendable, Equatable {
    public var cluster: String
    public var objectives: Objectives
    public var coordination: CoordinationConfig
    public var regions: [RegionConfig]
    public var health: HealthConfig
    public var failover: FailoverConfig
    public var dns: DNSConfig
    public var backup: BackupConfig?
    /// Backups and restore drills the agents run on cron schedules.
    public var schedules: [ScheduledJob] = []
    /// How standbys are built for empty or re-initialised nodes.
    public var replica = ReplicaConfig()
    /// `notifications:`: where events that need a person are sent.
    public var notifications: [NotificationChannel] = []
    /// `log:`: the agents' log format and level.
    public var log = LogConfig()
    /// `hooks:`: local commands run on role changes, at the agent's start and stop.
    public var hooks = HooksConfig()

    public init(
        cluster: String, objectives: Objectives, coordination: CoordinationConfig,
        regions: [RegionConfig], health: HealthConfig, failover: FailoverConfig,
        dns: DNSConfig, backup: BackupConfig?
    ) {
        self.cluster = cluster
        self.objectives = objectives
        self.coordination = coordination
        self.regions = regions
        self.health = health
        self.failover = failover
        self.dns = dns
        self.backup = backup
    }

    /// Every node of every region, in configuration order, with its region.
    public var nodes: [(region: RegionConfig, node: NodeConfig)] {
        regions.flatMap { region in region.nodes.map { (region, $0) } }
    }

    public func node(named name: String) -> (region: RegionConfig, node: NodeConfig)? {
        nodes.first { $0.node.name == name }
    }
}

/// Recovery objectives: the most downtime (RTO) and data loss, as a window of time (RPO),
/// that the cluster may suffer in a failover.
public struct Objectives: Sendable, Equatable {
    public var rto: Duration
    public var rpo: Duration
    public init(rto: Duration, rpo: Duration) { self.rto = rto; self.rpo = rpo }
}

/// How the agents reach the consensus store (etcd v3).
public struct CoordinationConfig: Sendable, Equatable {
    /// Client URLs of the etcd members; the agents move to the next one on failure.
    public var endpoints: [String]
    /// TTL of the leader lease: how long a lost primary keeps the leader key.
    public var leaseTTL: Duration
    /// Key prefix under which this cluster's keys live.
    public var prefix: String
    public var tls: TLSConfig?
    public var auth: EtcdAuth?

    public init(endpoints: [String], leaseTTL: Duration, prefix: String, tls: TLSConfig? = nil, auth: EtcdAuth? = nil) {
        self.endpoints = endpoints
        self.leaseTTL = leaseTTL
        self.prefix = prefix
        self.tls = tls
        self.auth = auth
    }
}

/// Client TLS material for etcd: file paths only, never inline keys.
public struct TLSConfig: Sendable, Equatable {
    public var caFile: String?
    public var certFile: String?
    public var keyFile: String?
}

/// etcd user/password authentication; the password comes from the environment or a file.
public struct EtcdAuth: Sendable, Equatable {
    public var username: String
    public var password: SecretSource
}

/// Where a secret is read from at run time. The config itself never holds secrets.
public enum SecretSource: Sendable, Equatable, CustomStringConvertible {
    case environment(String)
    case file(String)

    public var description: String {
        switch self {
        case .environment(let name): "$\(name)"
        case .file(let path): "file \(path)"
        }
    }
}

/// The part a region plays in disaster recovery.
public enum RegionRole: String, Sendable, Equatable, CaseIterable {
    /// Runs the primary in normal operation.
    case primary
    /// Runs streaming replicas that may be promoted automatically.
    case hotStandby = "hot-standby"
    /// Holds backups only; activated from the latest backup within the RTO.
    case cold
}

public struct RegionConfig: Sendable, Equatable {
    public var name: String
    public var role: RegionRole
    /// Higher wins among equally caught-up candidates.
    public var priority: Int
    public var nodes: [NodeConfig]
    /// Where the region's agent serves its HTTP API (node i of the region on port + i);
    /// nil: the node's address (else its conninfo host), port 8008 + i.
    public var api: APIEndpoint? = nil
    /// The cloud provider's name for where this region is (e.g. `eu-west-1`): an S3
    /// repository's bucket must report the provider region of one of the allowed regions.
    public var providerRegion: String? = nil
    /// The name (`etcd --name`) of the etcd member that runs in this region: the leader's
    /// agent keeps etcd's raft leader out of its own region (`EtcdLeaderPlacement`).
    public var etcdMember: String? = nil

    /// The HTTP API address of the region's node at `index`.
    public func apiEndpoint(forNodeAt index: Int) -> APIEndpoint {
        let node = nodes[index]
        let base = api ?? APIEndpoint(host: node.address ?? node.connection.host, port: 8008)
        return APIEndpoint(host: base.host, port: base.port + index)
    }
}

/// A host and TCP port.
public struct APIEndpoint: Sendable, Equatable, Codable, CustomStringConvertible {
    public var host: String
    public var port: Int

    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    public static func parse(_ text: String) -> APIEndpoint? {
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]), (1...65535).contains(port) else { return nil }
        var host = String(text[..<colon])
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        return host.isEmpty ? nil : APIEndpoint(host: host, port: port)
    }

    public var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
    public var url: String { "http://\(description)" }
}

/// Tags that change how drctl treats a node.
public enum NodeTag: String, Sendable, Equatable, CaseIterable {
    /// Never promote this node automatically.
    case nofailover
    /// Never take backups from this node.
    case nobackup
    /// Keep this node out of the load balancers' replica pool.
    case noloadbalance
}

public struct NodeConfig: Sendable, Equatable {
    public var name: String
    /// libpq connection string (key=value or URI), without a password.
    public var conninfo: String
    /// The parsed form of `conninfo`, for display and for addressing the node.
    public var connection: Conninfo
    public var dataDir: String?
    /// The address DNS records point at when this node serves.
    public var address: String?
    public var tags: Set<NodeTag>
}

/// How a node's health is judged and how quickly a failure is declared.
public struct HealthConfig: Sendable, Equatable {
    public var interval: Duration
    /// Consecutive failed checks before the node is declared failed.
    public var failures: Int
    public var timeout: Duration
    public var checks: [HealthCheck]
}

public enum HealthCheck: Sendable, Equatable {
    /// Connect with the node's conninfo and run a query.
    case postgres
    /// Open a TCP connection to `host:port`; `{address}` is replaced by the node's address.
    case tcp(target: String)
    /// `GET` the URL and expect 2xx; `{address}` is replaced by the node's address.
    case http(url: String)
}

/// Limits and estimates that bound an automatic failover.
public struct FailoverConfig: Sendable, Equatable {
    /// How long promotion may take before it is treated as failed; counts in the RTO budget.
    public var promotionTimeout: Duration
    /// How long a DNS update plus verification may take; counts in the RTO budget.
    public var dnsUpdateTimeout: Duration
    /// Minimum time between automatic failovers, against ping-pong.
    public var cooldown: Duration
    /// Rejoin a returning old primary as a standby without an operator.
    public var autoRejoin: Bool
    /// Synchronous replication managed by the leader: commits wait for one healthy
    /// standby, recorded in etcd; only that standby is promoted without an operator.
    public var synchronous: Bool = false
    /// With no healthy standby left, commits keep waiting (writes block) instead of the
    /// primary falling back to asynchronous (after which nothing is promoted automatically).
    public var synchronousStrict: Bool = false
    /// How many times the leader's agent may restart its crashed database, within the
    /// failure threshold, before failing over (0: never restart).
    public var restartAttempts: Int = 0
    /// While etcd cannot be reached, the leader keeps its database writable as long as every
    /// member of the last known membership confirms it through its agent API (Patroni 3's
    /// `failsafe_mode`); a standby never promotes without etcd either way.
    public var failsafe: Bool = false
    /// The agents' shared secret signing failsafe requests (`failsafe_secret_env` /
    /// `_file`); nil: requests are unsigned and any client of an agent API may send one.
    public var failsafeSecret: SecretSource? = nil
}

public enum DNSProviderKind: String, Sendable, Equatable, CaseIterable {
    case powerdns, cloudflare, route53
}

public struct DNSProviderConfig: Sendable, Equatable {
    public var name: String
    public var kind: DNSProviderKind
    /// API base URL; each kind has the provider's public default.
    public var url: String
    /// PowerDNS: zone name; Cloudflare: zone name (its id is looked up); Route 53: unused.
    public var zone: String?
    /// PowerDNS server id (default `localhost`).
    public var serverID: String?
    /// Route 53 hosted zone id.
    public var hostedZoneID: String?
    /// Authoritative name servers (`host` or `host:port`) queried to verify a change is
    /// served; none: verified by reading it back through the API.
    public var nameservers: [String] = []
    /// Named credentials (e.g. `api_key`, `access_key_id`) and where each is read from.
    public var credentials: [String: SecretSource]
}

/// What a managed record points to.
public enum RecordTarget: Sendable, Equatable, CustomStringConvertible {
    /// The address of whichever node is the primary.
    case primary
    /// The best healthy node of a region (application endpoints).
    case region(String)

    public var description: String {
        switch self {
        case .primary: "primary"
        case .region(let name): "region:\(name)"
        }
    }
}

public enum DNSRecordType: String, Sendable, Equatable, CaseIterable {
    case a = "A", aaaa = "AAAA", cname = "CNAME"
}

public struct DNSRecordConfig: Sendable, Equatable {
    /// Fully qualified record name, with the trailing dot.
    public var name: String
    public var type: DNSRecordType
    public var ttl: Duration
    public var provider: String
    public var target: RecordTarget
}

public struct DNSConfig: Sendable, Equatable {
    public var providers: [DNSProviderConfig]
    public var records: [DNSRecordConfig]
    /// How often the leader re-reads each managed record and repairs drift (someone, or a
    /// deposed leader's late write, changed it behind drctl's back).
    public var recheckInterval: Duration = .seconds(60)
    public static let none = DNSConfig(providers: [], records: [])
}

public struct BackupConfig: Sendable, Equatable {
    /// Directory of the backup repository (local disk or a mounted volume), or
    /// `s3://BUCKET/PREFIX` for object storage (then `objectStorage` says how to reach it).
    public var repository: String
    /// The region where that directory physically lives.
    public var repositoryRegion: String
    /// Data residency: the regions where this cluster's backups may be stored.
    public var allowedRegions: [String]
    /// What `backup prune` keeps: base backups and each database's dumps by their own
    /// counts, and the WAL the kept base backups need.
    public var retention = RepositoryRetention()
    /// The databases `backup run --kind logical` dumps (default: the conninfo's database).
    public var databases: [String] = []
    /// Queries `drctl restore` runs on the restored instance: a restore passes only when
    /// each returns its expected text.
    public var validation: [DrillSpec.Validation] = []
    /// Set when `repository` is an `s3://` URL.
    public var objectStorage: S3RepositoryConfig? = nil
    /// How base backups and WAL are compressed (`compression`, `compression_level`).
    public var compression = BackupCompression()
    /// Asynchronous archiving (`archive_async`): `wal-push` hands ready segments to a
    /// background pusher with `archiveWorkers` parallel uploads and answers PostgreSQL once
    /// its segment is durable; the pusher's notes live in `archiveSpool`.
    public var archiveAsync = false
    public var archiveWorkers = 2
    /// Nil: a directory under the system's temporary directory, per cluster.
    public var archiveSpool: String? = nil
    /// Client-side AES-256-GCM of every backup and WAL file (`encryption`); nil: stored as
    /// compressed, readable by whoever can read the repository.
    public var encryption: BackupEncryption? = nil
    /// How many WAL segments `wal-fetch` keeps fetched ahead of recovery (0: none).
    public var fetchAhead = 8
}

/// Where the backup encryption keys are: the key new backups and WAL are sealed with, and
/// the keys of earlier rotations, kept to read what they sealed. Each key is 32 random
/// bytes written as 64 hex digits (`openssl rand -hex 32`); objects name their key by its
/// id (a fingerprint), never by a secret.
public struct BackupEncryption: Sendable, Equatable {
    public var key: SecretSource
    public var previousKeys: [SecretSource]

    public init(key: SecretSource, previousKeys: [SecretSource] = []) {
        self.key = key
        self.previousKeys = previousKeys
    }
}

/// How base backups are compressed: zstd by the source server itself (pg_basebackup's
/// `server-zstd`), so the bytes travel and are stored compressed; `none` for the raw tar.
public struct BackupCompression: Sendable, Equatable {
    public enum Method: String, Sendable, Equatable, CaseIterable {
        case zstd, none
    }

    public var method: Method
    /// zstd's level for base backups, 1 (fastest) to 19.
    public var level: Int
    /// zstd's level for WAL segments (`wal_compression_level`), compressed by `wal-push`
    /// on archive_command's path: a lower level for a primary whose archiving falls behind.
    public var walLevel: Int

    public init(method: Method = .zstd, level: Int = 3, walLevel: Int = 3) {
        self.method = method
        self.level = level
        self.walLevel = walLevel
    }
}
