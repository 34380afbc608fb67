/// Retention over a whole repository: base backups by their policy, each database's dumps
/// by theirs, and the WAL that no kept base backup can use. Pure: `backup prune` lists the
/// repository, asks this, shows the answer and removes what it says.
///
/// One policy over every kind once deleted every base backup: with `keep_last: 2`, two
/// hourly dumps pushed the daily base backups out, and point-in-time restore was gone.
/// Kinds never compete for a slot now, the newest valid base backup is always kept, and
/// dumps are counted per database.
public struct RepositoryRetention: Sendable, Equatable {
    public var base: RetentionPolicy
    /// Applied to each database's dumps separately.
    public var logical: RetentionPolicy

    public init(base: RetentionPolicy = RetentionPolicy(), logical: RetentionPolicy = RetentionPolicy()) {
        self.base = base
        self.logical = logical
    }

    /// A backup as retention sees it.
    public struct Backup: Sendable, Equatable {
        public var id: String
        public var kind: BackupManifest.Kind
        /// A dump's database (nil for a base backup).
        public var database: String?
        /// Seconds since the epoch when it finished.
        public var finishedAt: Int64
        /// Complete and not found damaged (`backup verify` failed it: false).
        public var valid: Bool
        /// A base backup's first WAL position: the WAL it needs starts at its segment.
        public var startLSN: LSN?

        public init(id: String, kind: BackupManifest.Kind, database: String? = nil, finishedAt: Int64, valid: Bool = true, startLSN: LSN? = nil) {
            self.id = id
            self.kind = kind
            self.database = database
            self.finishedAt = finishedAt
            self.valid = valid
            self.startLSN = startLSN
        }
    }

    public struct Plan: Sendable, Equatable {
        /// Kept backup ids, each with why.
        public var keep: [String: String]
        /// Backup ids to remove, oldest first.
        public var remove: [String]
        /// Archived WAL files no kept base backup can use, in name order.
        public var expireWAL: [String]
        /// The first WAL segment a kept base backup needs (nil: no WAL is expired).
        public var walKeptFrom: String?
    }

    /// - Parameters:
    ///   - wal: the names of the files in the WAL archive (segments, `.partial`, `.backup`
    ///     labels, `.history` files; checksum files are the archive's business).
    ///   - segmentSize: the server's `wal_segment_size`.
    public func plan(_ backups: [Backup], wal: [String] = [], now: Int64, segmentSize: UInt64 = 16 << 20) -> Plan {
        var keep: [String: String] = [:]
        let bases = backups.filter { $0.kind == .base }
        for (id, why) in base.plan(bases.map(Self.item), now: now).keep { keep[id] = "base: " + why }
        let newestBase = bases.filter(\.valid).max { ($0.finishedAt, $0.id) < ($1.finishedAt, $1.id) }
        if let newestBase, keep[newestBase.id] == nil { keep[newestBase.id] = "base: the newest valid base backup" }
        let dumps = Dictionary(grouping: backups.filter { $0.kind == .logical }) { $0.database ?? "" }
        for (database, own) in dumps {
            for (id, why) in logical.plan(own.map(Self.item), now: now).keep { keep[id] = "dump of \(database): " + why }
        }
        // A damaged or unfinished backup goes once a newer valid one of its kind (and
        // database) exists; until then it may be all there is to look at.
        let remove = backups.sorted { ($0.finishedAt, $0.id) < ($1.finishedAt, $1.id) }.filter { backup in
            guard keep[backup.id] == nil else { return false }
            return backup.valid
                || backups.contains { $0.valid && $0.kind == backup.kind && $0.database == backup.database && $0.finishedAt >= backup.finishedAt }
        }.map(\.id)
        // The WAL a kept, valid base backup needs starts at its first segment; older
        // segments (of any timeline) serve no restore drctl can make. Without such a backup
        // nothing is expired: the WAL may be all that is left.
        let starts = bases.filter { keep[$0.id] != nil && $0.valid }.compactMap(\.startLSN)
        guard let oldest = starts.min() else { return Plan(keep: keep, remove: remove, expireWAL: [], walKeptFrom: nil) }
        let firstNeeded = oldest.value / segmentSize
        let expire = wal.filter { name in
            guard let segment = Self.segmentNumber(name, segmentSize: segmentSize) else { return false }
            return segment < firstNeeded
        }.sorted()
        let perLog = 0x1_0000_0000 / segmentSize
        let from = String(format: "%08X%08X", UInt32(firstNeeded / perLog), UInt32(firstNeeded % perLog))
        return Plan(keep: keep, remove: remove, expireWAL: expire, walKeptFrom: from)
    }

    static func item(_ backup: Backup) -> RetentionPolicy.Item {
        RetentionPolicy.Item(id: backup.id, finishedAt: backup.finishedAt, valid: backup.valid)
    }

    /// The segment number of a WAL file (`TTTTTTTTLLLLLLLLSSSSSSSS`, optionally followed by
    /// `.partial` or a `.OFFSET.backup` label); nil for a timeline history file or anything
    /// that is not a WAL file name — never expired.
    public static func segmentNumber(_ name: String, segmentSize: UInt64 = 16 << 20) -> UInt64? {
        let stem = name.split(separator: ".", maxSplits: 1).first.map(String.init) ?? name
        let suffix = name.dropFirst(stem.count)
        guard stem.count == 24, stem.allSatisfy(\.isHexDigit), suffix.isEmpty || suffix == ".partial" || suffix.hasSuffix(".backup") else { return nil }
        guard let log = UInt64(stem.dropFirst(8).prefix(8), radix: 16), let seg = UInt64(stem.suffix(8), radix: 16) else { return nil }
        return log * (0x1_0000_0000 / segmentSize) + seg
    }
}
