import DRCore
import Foundation
import Testing

/// Safety invariant 5: a record this version cannot read is skipped and reported, and
/// never makes the rest of the cluster's keys unreadable.
@Suite struct CoordinationSnapshotTests {
    static let prefix = "/drctl/c1/"

    static func member(_ name: String, role: String = "standby", extra: String = "") -> CoordinationSnapshot.Entry {
        let json = """
            {"name":"\(name)","region":"r-\(name)","role":"\(role)","timeline":1,"lsn":"0/3000060","healthy":true,
             "failed_checks":0,"nofailover":false,"priority":100,"published_at_ms":1\(extra)}
            """
        return .init(key: prefix + "members/" + name, value: Data(json.utf8), createRevision: 5, lease: 9)
    }

    @Test func readsEveryKindOfRecord() {
        let entries: [CoordinationSnapshot.Entry] = [
            .init(key: Self.prefix + "leader", value: Data("pg1".utf8), createRevision: 42, lease: 7),
            Self.member("pg1", role: "primary"), Self.member("pg2"),
            .init(key: Self.prefix + "progress", value: Data(#"{"node":"pg1","timeline":1,"lsn":"0/3000060","standby_lag_seconds":{"pg2":0.1}}"#.utf8)),
            .init(key: Self.prefix + "intents/pause", value: Data("paused".utf8)),
            .init(key: Self.prefix + "intents/failover", value: Data(#"{"to":"pg2"}"#.utf8)),
            .init(key: Self.prefix + "intents/rejoin/pg3", value: Data("rejoin".utf8)),
        ]
        let snapshot = CoordinationSnapshot.decode(prefix: Self.prefix, revision: 50, entries: entries)
        #expect(snapshot.revision == 50)
        #expect(snapshot.leader == LeaderRecord(node: "pg1", term: 42, lease: 7))
        #expect(snapshot.members.map(\.name) == ["pg1", "pg2"])
        #expect(snapshot.members.map(\.role) == [.primary, .standby])
        #expect(snapshot.progress?.standbyLagSeconds == ["pg2": 0.1])
        #expect(snapshot.paused)
        #expect(snapshot.failoverIntent == FailoverIntent(to: "pg2", acceptDataLoss: false), "an absent acceptance is no acceptance")
        #expect(snapshot.rejoinRequested == ["pg3"])
        #expect(snapshot.skipped.isEmpty)
    }

    /// During a rolling upgrade older agents write only the `primary` key: its progress is
    /// read while `progress` is missing, and `progress` wins once both are written.
    @Test func progressUnderTheOlderKeyIsReadUntilTheNewOneExists() {
        func progress(_ key: String, lsn: String) -> CoordinationSnapshot.Entry {
            .init(key: Self.prefix + key, value: Data(#"{"node":"pg1","timeline":1,"lsn":"\#(lsn)","standby_lag_seconds":{}}"#.utf8))
        }
        let old = CoordinationSnapshot.decode(prefix: Self.prefix, revision: 1, entries: [progress("primary", lsn: "0/3000060")])
        #expect(old.progress?.lsn == LSN(0x3000060))
        let both = CoordinationSnapshot.decode(prefix: Self.prefix, revision: 2, entries: [progress("primary", lsn: "0/3000060"), progress("progress", lsn: "0/4000000")])
        #expect(both.progress?.lsn == LSN(0x4000000))
    }

    @Test func aNewerAgentsRecordIsReadAsFarAsItCanBe() {
        let newer = Self.member("pg3", role: "witness", extra: #","zone":"b","clock":{"ms":1}"#)
        let snapshot = CoordinationSnapshot.decode(prefix: Self.prefix, revision: 1, entries: [Self.member("pg2"), newer])
        #expect(snapshot.members.map(\.name) == ["pg2", "pg3"], "extra fields are ignored")
        #expect(snapshot.members.last?.role == .unknown, "an unknown role is kept as unknown: never a candidate, never a primary")
        #expect(snapshot.skipped.isEmpty)
    }

    @Test func anUnreadableRecordIsSkippedAndTheOthersKept() {
        let entries: [CoordinationSnapshot.Entry] = [
            Self.member("pg1", role: "primary"),
            .init(key: Self.prefix + "members/pg9", value: Data(#"{"name":"pg9","role":7}"#.utf8)),
            .init(key: Self.prefix + "members/junk", value: Data("not json".utf8)),
            .init(key: Self.prefix + "primary", value: Data(#"{"node":"pg1"}"#.utf8)),
            .init(key: Self.prefix + "intents/switchover", value: Data(#"{"to":"pg2","phase":"teleporting","requested_at_ms":1}"#.utf8)),
            .init(key: Self.prefix + "somethingnew/x", value: Data("?".utf8)),
            .init(key: "/other/cluster/leader", value: Data("zz".utf8), createRevision: 3),
        ]
        let snapshot = CoordinationSnapshot.decode(prefix: Self.prefix, revision: 1, entries: entries)
        #expect(snapshot.members.map(\.name) == ["pg1"])
        #expect(snapshot.progress == nil && snapshot.switchover == nil && snapshot.leader == nil)
        #expect(
            snapshot.skipped.map(\.key) == [
                Self.prefix + "members/pg9", Self.prefix + "members/junk", Self.prefix + "primary",
                Self.prefix + "intents/switchover",
            ], "unknown keys are ignored, not reported")
        #expect(snapshot.skipped[0].reason.contains("role") || snapshot.skipped[0].reason.contains("missing"), "\(snapshot.skipped[0].reason)")
        #expect(snapshot.skipped[2].reason.contains("field \"timeline\" is missing"), "\(snapshot.skipped[2].reason)")
    }

    @Test func statusReportsSkippedRecords() {
        let config = ClusterStatusTests.config
        let report = ClusterStatus.evaluate(
            config: config, observations: [],
            coordination: .known(
                leader: nil, members: [], paused: false, skipped: [SkippedRecord(key: "/drctl/x/members/pg9", reason: "field \"region\" is missing")]))
        #expect(report.problems.contains("etcd record /drctl/x/members/pg9 skipped: field \"region\" is missing"))
    }

    /// The leader's progress is written at least every heartbeat: an older stamp is its
    /// clock. Other agents measure their own clock against it and publish the offset.
    @Test func statusWarnsAboutAClockThatIsOff() {
        let config = ClusterStatusTests.config
        var progress = PrimaryProgress(node: "a", timeline: 1, lsn: LSN(1), standbyLagSeconds: [:])
        progress.publishedAtMillis = 1_000_000
        let leader = LeaderRecord(node: "a", term: 7, lease: 1)
        var standby = MemberRecord(
            name: "b", region: "r2", role: .standby, timeline: 1, lsn: LSN(1), replayLSN: nil, lagBytes: 0,
            healthy: true, failedChecks: 0, publishedAtMillis: 1_000_000 - 3_600_000)
        var primary = MemberRecord(
            name: "a", region: "r1", role: .primary, timeline: 1, lsn: LSN(1), replayLSN: nil, lagBytes: nil,
            healthy: true, failedChecks: 0, publishedAtMillis: 1_000_000 - 3_600_000)
        func problems(now: Int64) -> [String] {
            ClusterStatus.evaluate(
                config: config, observations: [],
                coordination: .known(leader: leader, members: [primary, standby], paused: false, progress: progress), nowMillis: now
            ).problems.filter { $0.contains("clock") }
        }
        // An hour-old member record is no clock problem: records are written on change.
        #expect(problems(now: 1_000_900) == [])
        #expect(problems(now: 1_009_000) == [], "an unchanged progress is a heartbeat old at most")
        #expect(problems(now: 1_060_000).first?.hasPrefix("the clock of a's agent differs from this host's by about 60s") == true)
        // A leader whose database is down (restarting in place) writes no progress: its age
        // is then no clock.
        primary.role = .down
        #expect(problems(now: 1_060_000) == [])
        standby.clockOffsetSeconds = -42
        #expect(problems(now: 1_000_900).first?.hasPrefix("the clock of b's agent is about 42s behind the leader's (a)") == true)
    }
}

/// The progress an older agent writes under `primary` never wins over a newer `progress`
/// (issue 26): the key written last is read, whatever the records say.
@Suite struct LegacyProgressTests {
    static func entries(progress: (timeline: Int, written: Int64)?, legacy: (timeline: Int, written: Int64)?) -> [CoordinationSnapshot.Entry] {
        func entry(_ key: String, _ timeline: Int, _ written: Int64) -> CoordinationSnapshot.Entry {
            let record = PrimaryProgress(node: "pg1", timeline: timeline, lsn: LSN(UInt64(timeline) << 24), standbyLagSeconds: [:])
            return .init(key: "/drctl/x/" + key, value: try! JSONEncoder().encode(record), modRevision: written)
        }
        return [progress.map { entry(CoordinationSnapshot.Key.progress, $0.timeline, $0.written) }, legacy.map { entry("primary", $0.timeline, $0.written) }]
            .compactMap { $0 }
    }

    @Test(
        arguments: [
            // (progress, legacy) → the timeline read
            ((timeline: 3, written: Int64(20)), (timeline: 2, written: Int64(10)), 3),  // a stale legacy key from before an upgrade
            ((timeline: 3, written: Int64(20)), (timeline: 9, written: Int64(10)), 3),  // stale, however good it looks
            ((timeline: 3, written: Int64(20)), (timeline: 4, written: Int64(30)), 4),  // an older agent leads now and writes only `primary`
            (nil, (timeline: 2, written: Int64(10)), 2),  // only the older agents ever wrote it
        ] as [((timeline: Int, written: Int64)?, (timeline: Int, written: Int64)?, Int)])
    func theKeyWrittenLastIsRead(progress: (timeline: Int, written: Int64)?, legacy: (timeline: Int, written: Int64)?, expected: Int) {
        let snapshot = CoordinationSnapshot.decode(prefix: "/drctl/x/", revision: 40, entries: Self.entries(progress: progress, legacy: legacy))
        #expect(snapshot.progress?.timeline == expected)
    }
}
