import DRCore
import Testing

@Suite struct PublicationScheduleTests {
    static let schedule = PublicationSchedule(heartbeat: .seconds(10), leaseTTL: .seconds(6))

    static func member(
        lsn: UInt64 = 1000, lag: UInt64? = 0, healthy: Bool = true, failedChecks: Int = 0, publishedAt: Int64 = 0, failingFor: Int64? = nil, hold: String? = nil
    ) -> MemberRecord {
        var record = MemberRecord(
            name: "b", region: "r", role: .standby, timeline: 1, lsn: LSN(lsn), replayLSN: LSN(lsn), lagBytes: lag, healthy: healthy,
            failedChecks: failedChecks, publishedAtMillis: publishedAt)
        record.failingForMillis = failingFor
        record.hold = hold
        return record
    }

    static let written = PublicationSchedule.Written(member(), at: .seconds(100))

    /// No timer: an unchanged record is written again only when the loop's read shows
    /// that etcd does not hold what was written.
    @Test(arguments: [
        ("unchanged, an hour later", member(), true, false),
        ("positions and publication time moved", member(lsn: 9000, publishedAt: 5000), true, false),
        ("lag within one WAL segment", member(lag: 15 << 20), true, false),
        ("lag past a WAL segment", member(lag: 17 << 20), true, true),
        ("a failure streak grew longer only", member(failingFor: 900), true, false),
        ("health changed", member(healthy: false), true, true),
        ("a failed check", member(failedChecks: 1), true, true),
        ("a hold", member(hold: "beyond the RPO"), true, true),
        (
            "a clock found off",
            {
                var m = member(); m.clockOffsetSeconds = 12; return m
            }(), true, true
        ),
        ("no leader: every loop", member(), false, true),
    ])
    func memberRecordIsWrittenOnChange(_ label: String, next: MemberRecord, leaderKnown: Bool, due: Bool) {
        #expect(Self.schedule.memberDue(next, last: Self.written, stored: Self.written.record, leaderKnown: leaderKnown) == due, "\(label)")
    }

    @Test(arguments: [
        ("gone (a restored etcd, an expired lease)", nil as MemberRecord?, true),
        ("an older version of it (a write whose answer was lost)", member(lsn: 10, publishedAt: -5000), true),
        ("what was written", member(), false),
    ])
    func anUnchangedRecordIsWrittenAgainWhenTheReadDoesNotShowIt(_ label: String, stored: MemberRecord?, due: Bool) {
        #expect(Self.schedule.memberDue(Self.member(), last: Self.written, stored: stored, leaderKnown: true) == due, "\(label)")
    }

    @Test(arguments: [(3, 4, false), (3, 6, true), (nil as Int?, 4, true), (-6, 6, true)])
    func aClockOffsetIsMaterialInSteps(old: Int?, new: Int, material: Bool) {
        var before = Self.member(), after = Self.member()
        before.clockOffsetSeconds = old
        after.clockOffsetSeconds = new
        #expect((before.material != after.material) == material)
    }

    @Test func aMemberRecordNeverWrittenIsDue() {
        #expect(Self.schedule.memberDue(Self.member(), last: nil, stored: nil, leaderKnown: true))
    }

    static let progress = PrimaryProgress(node: "a", timeline: 1, lsn: LSN(1000), standbyLagSeconds: ["b": 0])

    @Test(arguments: [
        ("unchanged", progress, 105.0, false),
        ("the position moved", PrimaryProgress(node: "a", timeline: 1, lsn: LSN(1100), standbyLagSeconds: ["b": 0]), 101, true),
        ("a standby's loss window changed", PrimaryProgress(node: "a", timeline: 1, lsn: LSN(1000), standbyLagSeconds: ["b": 0.4]), 101, true),
        ("the heartbeat", progress, 110, true),
        (
            "only the publication time",
            {
                var p = progress; p.publishedAtMillis = 9; return p
            }(), 101, false
        ),
        (
            "a standby's flushed position",
            {
                var p = progress; p.standbyLSN = ["b": LSN(900)]; return p
            }(), 101, true
        ),
    ])
    func progressIsWrittenWheneverItDiffers(_ label: String, next: PrimaryProgress, now: Double, due: Bool) {
        let last = PublicationSchedule.Written(Self.progress, at: .seconds(100))
        #expect(Self.schedule.progressDue(next, last: last, now: .seconds(now)) == due, "\(label)")
        #expect(Self.schedule.progressDue(next, last: nil, now: .seconds(now)))
    }

    @Test(arguments: [(nil as Double?, 0.0, true), (100, 100, false), (100, 101.9, false), (100, 102, true), (100, 105, true)])
    func memberLeaseIsRenewedAfterAThirdOfItsTTL(lastRenewed: Double?, now: Double, due: Bool) {
        #expect(Self.schedule.memberLeaseRenewalDue(lastRenewedAt: lastRenewed.map { .seconds($0) }, now: .seconds(now)) == due)
    }
}
