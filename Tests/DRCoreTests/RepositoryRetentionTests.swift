import DRCore
import Testing

/// Retention by kind and database, and WAL expiry (issue 27): the documented schedule of
/// hourly dumps and a daily base backup once lost every base backup to `keep_last: 2`.
@Suite struct RepositoryRetentionTests {
    static let hour: Int64 = 3600
    static let now: Int64 = 1_800_000_000
    static let keepTwo = RetentionPolicy(keepLast: 2, hourly: 0, daily: 0, weekly: 0, monthly: 0)

    static func base(_ id: String, hoursAgo: Int64, segment: UInt64, valid: Bool = true) -> RepositoryRetention.Backup {
        .init(id: id, kind: .base, finishedAt: now - hoursAgo * hour, valid: valid, startLSN: LSN(segment << 24 | 0x28))
    }

    static func dump(_ id: String, _ database: String, hoursAgo: Int64, valid: Bool = true) -> RepositoryRetention.Backup {
        .init(id: id, kind: .logical, database: database, finishedAt: now - hoursAgo * hour, valid: valid)
    }

    static func segments(_ numbers: ClosedRange<UInt64>, timeline: Int = 1) -> [String] {
        numbers.map { String(format: "%08X%08X%08X", timeline, UInt32($0 >> 8), UInt32($0 & 0xFF)) }
    }

    /// The reproduction: two base backups, then three dumps, `keep_last: 2`.
    @Test func dumpsNeverPushOutBaseBackups() {
        let backups = [
            Self.base("b1", hoursAgo: 30, segment: 2), Self.base("b2", hoursAgo: 6, segment: 5),
            Self.dump("d1", "app", hoursAgo: 3), Self.dump("d2", "app", hoursAgo: 2), Self.dump("d3", "app", hoursAgo: 1),
        ]
        let plan = RepositoryRetention(base: Self.keepTwo, logical: Self.keepTwo).plan(backups, wal: Self.segments(1...9), now: Self.now)
        #expect(Set(plan.keep.keys) == ["b1", "b2", "d2", "d3"], "\(plan.keep)")
        #expect(plan.remove == ["d1"])
        #expect(plan.expireWAL == Self.segments(1...1), "only the segment before the oldest kept base backup's start")
        #expect(plan.walKeptFrom == "0000000000000002")
    }

    @Test func dumpsAreCountedPerDatabase() {
        let backups = (1...3).map { Self.dump("app\($0)", "app", hoursAgo: Int64($0)) } + (1...3).map { Self.dump("crm\($0)", "crm", hoursAgo: Int64($0) + 10) }
        let plan = RepositoryRetention(base: Self.keepTwo, logical: Self.keepTwo).plan(backups, now: Self.now)
        #expect(plan.remove == ["crm3", "app3"], "the oldest of each database, oldest first")
        #expect(plan.expireWAL.isEmpty, "no base backup: no WAL is expired")
    }

    /// A base backup `backup verify` found damaged counts for nothing: the older valid one
    /// stays, and so does the WAL it needs. The damaged one stays until a valid one is
    /// newer (it may be all there is to look at), an older damaged one goes.
    @Test func aDamagedBaseBackupKeepsTheOlderOneAndItsWAL() {
        let backups = [
            Self.base("b0", hoursAgo: 70, segment: 1, valid: false), Self.base("b1", hoursAgo: 50, segment: 2), Self.base("b2", hoursAgo: 30, segment: 4),
            Self.base("b3", hoursAgo: 6, segment: 7, valid: false),
        ]
        let plan = RepositoryRetention(base: RetentionPolicy(keepLast: 1, hourly: 0, daily: 0, weekly: 0, monthly: 0), logical: Self.keepTwo)
            .plan(backups, wal: Self.segments(1...9), now: Self.now)
        #expect(Set(plan.keep.keys) == ["b2"])
        #expect(plan.remove == ["b0", "b1"])
        #expect(plan.expireWAL == Self.segments(1...3))
    }

    /// The newest valid base backup is kept whatever the counts say (a daily bucket that
    /// missed it, keep_last spent on damaged ones).
    @Test func theNewestValidBaseBackupIsAlwaysKept() {
        let policy = RetentionPolicy(keepLast: 1, hourly: 0, daily: 1, weekly: 0, monthly: 0)
        let backups = [Self.base("old", hoursAgo: 100, segment: 1), Self.base("new", hoursAgo: 50, segment: 9)]
        let plan = RepositoryRetention(base: policy, logical: policy).plan(backups, now: Self.now)
        #expect(plan.keep["new"] != nil)
        #expect(plan.remove == ["old"])
    }

    /// Only a damaged backup of its kind: kept until a valid one exists.
    @Test func aDamagedBackupAloneIsNotRemoved() {
        let plan = RepositoryRetention(base: Self.keepTwo, logical: Self.keepTwo).plan([Self.dump("d", "app", hoursAgo: 1, valid: false)], now: Self.now)
        #expect(plan.remove.isEmpty)
    }

    /// Timeline histories are never expired; partial segments and backup labels go with
    /// their segment; anything that is not a WAL name stays.
    @Test func walNamesAndTimelines() {
        let wal = [
            "00000002.history", "000000010000000000000001", "000000010000000000000001.00000028.backup", "000000020000000000000001.partial",
            "000000020000000000000002", "000000020000000000000003", "README",
        ]
        let plan = RepositoryRetention(base: Self.keepTwo, logical: Self.keepTwo).plan([Self.base("b", hoursAgo: 1, segment: 2)], wal: wal, now: Self.now)
        #expect(plan.expireWAL == ["000000010000000000000001", "000000010000000000000001.00000028.backup", "000000020000000000000001.partial"])
        #expect(RepositoryRetention.segmentNumber("00000002.history") == nil)
        #expect(RepositoryRetention.segmentNumber("0000000100000001000000FF") == 0x1FF)
    }
}

/// Where a restore's recovery ended against what the archive holds (issue 27).
@Suite struct RecoveryEndTests {
    static let log = """
        2026-12-07 05:00:01 LOG:  starting archive recovery
        2026-12-07 05:00:01 LOG:  restored log file "000000010000000000000004" from archive
        2026-12-07 05:00:01 LOG:  restored log file "00000002.history" from archive
        2026-12-07 05:00:02 LOG:  restored log file "000000010000000000000005" from archive
        2026-12-07 05:00:02 LOG:  redo done at 0/5000148
        """

    @Test func theLastSegmentRestoredIsRead() {
        #expect(RecoveryEnd.lastRestored(log: Self.log) == "000000010000000000000005")
        #expect(RecoveryEnd.lastRestored(log: "LOG:  database system is ready") == nil)
    }

    @Test func laterSegmentsOnTheSameTimelineAreMissed() {
        let archived = ["000000010000000000000005", "000000010000000000000006", "000000010000000000000007.partial", "000000020000000000000009", "00000002.history"]
        #expect(RecoveryEnd.missed(after: "000000010000000000000005", archived: archived) == ["000000010000000000000006"])
        #expect(RecoveryEnd.missed(after: "000000010000000000000006", archived: archived).isEmpty, "at the archive's end")
    }
}

/// `backup verify --archive`: the holes a restore would stop at.
@Suite struct ArchiveGapsTests {
    static func names(_ timeline: Int, _ segments: [UInt64]) -> [String] { segments.map { ArchiveGaps.name(timeline, $0) } }

    @Test func aContiguousArchiveHasNoGap() {
        let archived = Self.names(1, Array(2...9)) + ["00000002.history"] + Self.names(2, [9, 10, 11])
        #expect(ArchiveGaps.find(starts: [(1, LSN(2 << 24 | 0x28))], archived: archived).isEmpty)
    }

    @Test func holesAreFoundOnEachTimeline() {
        let archived = Self.names(1, [2, 3, 5, 8, 9]) + Self.names(2, [9, 11])
        let gaps = ArchiveGaps.find(starts: [(1, LSN(3 << 24)), (1, LSN(8 << 24))], archived: archived)
        #expect(
            gaps.map(\.description) == [
                "timeline 1: 000000010000000000000004 is missing", "timeline 1: 2 segments missing, 000000010000000000000006 … 000000010000000000000007",
                "timeline 2: 00000002000000000000000A is missing",
            ])
    }

    @Test func theBackupsFirstSegmentMissingIsAGap() {
        let gaps = ArchiveGaps.find(starts: [(1, LSN(2 << 24))], archived: Self.names(1, [3, 4]))
        #expect(gaps == [ArchiveGaps.Gap(timeline: 1, first: ArchiveGaps.name(1, 2), last: ArchiveGaps.name(1, 2), count: 1)])
    }
}
