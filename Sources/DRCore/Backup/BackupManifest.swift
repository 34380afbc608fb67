/// One backup in the repository: the JSON manifest beside its data, and the row of
/// `drctl backup list --json` (the CLI contract's fields, docs/design.md, plus a few for the operator).
public struct BackupManifest: Sendable, Equatable, Codable {
    public enum Kind: String, Sendable, Equatable, Codable, CaseIterable {
        /// `pg_dump -Fc` of one database.
        case logical
        /// `pg_basebackup` of the whole instance (with the WAL archive: point-in-time restore).
        case base
    }

    public var id: String
    public var kind: Kind
    public var cluster: String
    /// Logical: the database dumped; base: nil (the whole instance).
    public var database: String?
    /// The data file, relative to the backup's directory.
    public var path: String
    public var size: UInt64
    public var sha256: String
    /// ISO 8601, UTC.
    public var startedAt: String
    public var finishedAt: String
    public var startLSN: LSN?
    public var stopLSN: LSN?
    public var timeline: Int?
    /// The region the repository is in (data residency).
    public var region: String
    /// When `backup verify` last found it intact; nil: never verified.
    public var verifiedAt: String?
    /// What `backup verify` last found wrong with it (its bytes, its table of contents, a
    /// base backup without its WAL); nil: nothing found. Retention counts it as no backup.
    public var damage: String? = nil
    /// How the data file is compressed (`zstd`); nil: not at all (older backups, dumps,
    /// which pg_dump -Fc compresses itself).
    public var compression: String? = nil
    /// How the data file is encrypted (`aes-256-gcm`, drctl's sealed format) and the id of
    /// the backup key that sealed it; nil: not encrypted.
    public var encryption: String? = nil
    public var keyID: String? = nil
    /// The node it was taken from, and its PostgreSQL version (server_version_num).
    public var sourceNode: String
    public var postgresVersion: Int

    public init(
        id: String, kind: Kind, cluster: String, database: String?, path: String, size: UInt64, sha256: String, startedAt: String,
        finishedAt: String, startLSN: LSN?, stopLSN: LSN?, timeline: Int?, region: String, verifiedAt: String? = nil, sourceNode: String,
        postgresVersion: Int
    ) {
        self.id = id
        self.kind = kind
        self.cluster = cluster
        self.database = database
        self.path = path
        self.size = size
        self.sha256 = sha256
        self.startedAt = startedAt
        self.finishedAt = finishedAt
        self.startLSN = startLSN
        self.stopLSN = stopLSN
        self.timeline = timeline
        self.region = region
        self.verifiedAt = verifiedAt
        self.sourceNode = sourceNode
        self.postgresVersion = postgresVersion
    }

    enum CodingKeys: String, CodingKey {
        case id, kind, cluster, database, path, size, sha256, timeline, region
        case startedAt = "started_at", finishedAt = "finished_at", startLSN = "start_lsn", stopLSN = "stop_lsn", verifiedAt = "verified_at"
        case sourceNode = "source_node", postgresVersion = "postgres_version", damage, compression, encryption
        case keyID = "key_id"
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        id = try c.decode(String.self, forKey: .id)
        kind = try c.decode(Kind.self, forKey: .kind)
        cluster = try c.decode(String.self, forKey: .cluster)
        database = try c.decodeIfPresent(String.self, forKey: .database)
        path = try c.decode(String.self, forKey: .path)
        size = try c.decode(UInt64.self, forKey: .size)
        sha256 = try c.decode(String.self, forKey: .sha256)
        startedAt = try c.decode(String.self, forKey: .startedAt)
        finishedAt = try c.decode(String.self, forKey: .finishedAt)
        startLSN = try c.decodeIfPresent(LSN.self, forKey: .startLSN)
        stopLSN = try c.decodeIfPresent(LSN.self, forKey: .stopLSN)
        timeline = try c.decodeIfPresent(Int.self, forKey: .timeline)
        region = try c.decode(String.self, forKey: .region)
        verifiedAt = try c.decodeIfPresent(String.self, forKey: .verifiedAt)
        sourceNode = try c.decode(String.self, forKey: .sourceNode)
        postgresVersion = try c.decode(Int.self, forKey: .postgresVersion)
        damage = try c.decodeIfPresent(String.self, forKey: .damage)
        compression = try c.decodeIfPresent(String.self, forKey: .compression)
        encryption = try c.decodeIfPresent(String.self, forKey: .encryption)
        keyID = try c.decodeIfPresent(String.self, forKey: .keyID)
    }

    /// The CLI contract's list row (docs/design.md) prints nulls explicitly.
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(id, forKey: .id); try c.encode(kind, forKey: .kind); try c.encode(cluster, forKey: .cluster)
        try c.encode(database, forKey: .database); try c.encode(path, forKey: .path); try c.encode(size, forKey: .size)
        try c.encode(sha256, forKey: .sha256); try c.encode(startedAt, forKey: .startedAt); try c.encode(finishedAt, forKey: .finishedAt)
        try c.encode(startLSN, forKey: .startLSN); try c.encode(stopLSN, forKey: .stopLSN); try c.encode(timeline, forKey: .timeline)
        try c.encode(region, forKey: .region); try c.encode(verifiedAt, forKey: .verifiedAt); try c.encode(sourceNode, forKey: .sourceNode)
        try c.encode(postgresVersion, forKey: .postgresVersion)
        // Only when found: manifests of intact backups stay as they were.
        try c.encodeIfPresent(damage, forKey: .damage)
        try c.encodeIfPresent(compression, forKey: .compression)
        try c.encodeIfPresent(encryption, forKey: .encryption)
        try c.encodeIfPresent(keyID, forKey: .keyID)
    }

    /// `tar`'s option to read the data file (`--zstd`), if it is compressed.
    public var tarDecompression: [String] { compression == "zstd" ? ["--zstd"] : [] }
}
