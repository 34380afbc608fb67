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

    @Test(arguments: [
        ("unchanged", member(), 101.0, true, false),
        ("positions and publication time moved", member(lsn: 9000, publishedAt: 5000), 101, true, false),
        ("lag within one WAL segment", member(lag: 15 << 20), 101, true, false),
        ("lag past a WAL segment", member(lag: 17 << 20), 101, true, true),
        ("a failure streak grew longer only", member(failingFor: 900), 101, true, false),
        ("health changed", member(healthy: false), 101, true, true),
        ("a failed check", member(failedChecks: 1), 101, true, true),
        ("a hold", member(hold: "beyond the RPO"), 101, true, true),
        ("the heartbeat", member(), 110, true, true),
        ("no leader: every loop", member(), 100.5, false, true),
    ])
    func memberRecordIsWrittenOnChangeAndHeartbeat(_ label: String, next: MemberRecord, now: Double, leaderKnown: Bool, due: Bool) {
        #expect(Self.schedule.memberDue(next, last: Self.written, leaderKnown: leaderKnown, now: .seconds(now)) == due, "\(label)")
    }

    @Test func aMemberRecordNeverWrittenIsDue() {
        #expect(Self.schedule.memberDue(Self.member(), last: nil, leaderKnown: true, now: .seconds(1)))
    }

    static let progress = PrimaryProgress(node: "a", timeline: 1, lsn: LSN(1000), standbyLagSeconds: ["b": 0])

    @Test(arguments: [
        ("unchanged", progress, 105.0, false),
        ("the position moved", PrimaryProgress(node: "a", timeline: 1, lsn: LSN(1100), standbyLagSeconds: ["b": 0]), 101, true),
        ("a standby's loss window changed", PrimaryProgress(node: "a", timeline: 1, lsn: LSN(1000), standbyLagSeconds: ["b": 0.4]), 101, true),
        ("the heartbeat", progress, 110, true),
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
