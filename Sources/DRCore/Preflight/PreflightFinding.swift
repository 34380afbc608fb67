/// One thing `drctl preflight` found that a failover, switchover, rejoin, backup or restore
/// would trip over: on which node, what is wrong, why it matters for DR, and the fix.
public struct PreflightFinding: Sendable, Equatable, Codable {
    public enum Severity: String, Sendable, Codable {
        /// A DR operation would fail: `drctl preflight` exits 1.
        case blocking
        /// Degrades DR (slower, or needs an operator) without making an operation fail.
        case warning
    }

    /// A stable name for the check (`wal_level`, `archive`, `dns`, …), for scripts.
    public var check: String
    /// The node concerned; nil for the cluster as a whole (etcd, a DNS record).
    public var node: String?
    public var severity: Severity
    public var problem: String
    public var why: String
    public var fix: String

    public init(check: String, node: String?, severity: Severity, problem: String, why: String, fix: String) {
        self.check = check
        self.node = node
        self.severity = severity
        self.problem = problem
        self.why = why
        self.fix = fix
    }
}

/// What preflight read from one node's server (`SHOW`-level settings, the archiver's state
/// and the replication slots it holds).
public struct PreflightNodeSettings: Sendable, Equatable {
    public var inRecovery: Bool
    public var walLevel: String
    public var maxWalSenders: Int
    public var maxReplicationSlots: Int
    public var hotStandby: Bool
    public var walLogHints: Bool
    public var dataChecksums: Bool
    public var archiveMode: String
    public var archiveCommand: String
    public var restoreCommand: String
    /// The archiver's last failure is newer than its last success.
    public var archiverFailing: Bool
    /// The newest WAL segment the archiver stored (nil: none yet).
    public var lastArchivedWAL: String? = nil
    /// The server's `data_directory` (nil: not readable by this role).
    public var dataDirectory: String? = nil
    public var slots: [String]
    /// Where `synchronous_commit` is `local` or `off`: "server" for the configuration the
    /// agent's session sees, then each database and role that sets it so
    /// (`pg_db_role_setting`). Commits there never wait for a synchronous standby.
    public var asynchronousCommits: [String] = []

    public init(
        inRecovery: Bool = false, walLevel: String = "replica", maxWalSenders: Int = 10, maxReplicationSlots: Int = 10, hotStandby: Bool = true,
        walLogHints: Bool = false, dataChecksums: Bool = true, archiveMode: String = "on", archiveCommand: String = "drctl wal-push %p %f",
        restoreCommand: String = "drctl wal-fetch %f %p", archiverFailing: Bool = false, slots: [String] = []
    ) {
        self.inRecovery = inRecovery
        self.walLevel = walLevel
        self.maxWalSenders = maxWalSenders
        self.maxReplicationSlots = maxReplicationSlots
        self.hotStandby = hotStandby
        self.walLogHints = walLogHints
        self.dataChecksums = dataChecksums
        self.archiveMode = archiveMode
        self.archiveCommand = archiveCommand
        self.restoreCommand = restoreCommand
        self.archiverFailing = archiverFailing
        self.slots = slots
    }
}

/// One run of the preflight by a region's agent, as it publishes it (etcd, `/status`).
public struct PreflightReport: Sendable, Equatable, Codable {
    public var region: String
    /// When the run finished, Unix time in milliseconds.
    public var checkedAtMillis: Int64
    public var findings: [PreflightFinding]

    public init(region: String, checkedAtMillis: Int64, findings: [PreflightFinding]) {
        self.region = region
        self.checkedAtMillis = checkedAtMillis
        self.findings = findings
    }

    public var blocking: Int { findings.filter { $0.severity == .blocking }.count }
    public var warnings: Int { findings.count - blocking }
}
