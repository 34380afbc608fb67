import DRCore
import Testing

@Suite struct SafetyChecksTests {
    @Test(arguments: [(4.0, false), (8.9, false), (9.0, true), (12.0, true)])
    func leaseDeadlineIsSendTimePlusTTLLessMargin(now: Double, fence: Bool) {
        let lease = LeaseBookkeeping(term: 1, ttl: .seconds(5), lastConfirmedRenewalSentAt: .seconds(5))
        #expect(SafetyChecks.leaseDeadline(lease, margin: .seconds(1)) == .seconds(9))
        #expect(SafetyChecks.mustSelfFence(lease, now: .seconds(now), margin: .seconds(1)) == fence)
        #expect(SafetyChecks.mustSelfFence(nil, now: .seconds(now), margin: .seconds(1)) == false, "no lease held, nothing to lose")
    }

    static func m(_ name: String, lsn: UInt64?, role: NodeRole = .standby, healthy: Bool = true, nofailover: Bool = false, priority: Int = 100, timeline: Int = 1) -> MemberRecord {
        MemberRecord(
            name: name, region: "r", role: role, timeline: timeline, lsn: lsn.map(LSN.init), replayLSN: nil, lagBytes: nil,
            healthy: healthy, failedChecks: 0, nofailover: nofailover, priority: priority, publishedAtMillis: 0)
    }

    @Test func ranksByLSNThenPriorityThenName() {
        let ranked = SafetyChecks.rankCandidates(
            [
                Self.m("d", lsn: 500, priority: 200), Self.m("c", lsn: 900, priority: 10), Self.m("b", lsn: 900, priority: 50),
                Self.m("a", lsn: 900, priority: 50), Self.m("p", lsn: 1000, role: .primary), Self.m("sick", lsn: 2000, healthy: false),
                Self.m("tagged", lsn: 2000, nofailover: true), Self.m("old", lsn: 3000, timeline: 0), Self.m("blank", lsn: nil),
            ], timeline: 1)
        #expect(ranked.map(\.name) == ["a", "b", "c", "d"])
    }

    @Test func aStandbyThatHadEverythingAtThePrimarysLastProgressRanksFirst() {
        // b's record is old (a lower position), c's fresh; the primary's progress
        // of this loop says b had everything and c did not.
        let progress = PrimaryProgress(node: "p", timeline: 1, lsn: LSN(900), standbyLagSeconds: ["b": 0, "c": 0.3])
        let members = [Self.m("b", lsn: 500), Self.m("c", lsn: 800), Self.m("d", lsn: 700)]
        #expect(SafetyChecks.rankCandidates(members, timeline: 1, progress: progress).map(\.name) == ["b", "c", "d"])
        #expect(SafetyChecks.rankCandidates(members, timeline: 1).map(\.name) == ["c", "d", "b"], "without progress: by position")
    }

    /// Records are written only on material change, so a standby's own position may be
    /// hours old; the progress carries what the primary saw each standby flush, and the
    /// newer of the two ranks.
    @Test func theProgressPositionOfAStandbyOutranksItsOldRecord() {
        var progress = PrimaryProgress(node: "p", timeline: 1, lsn: LSN(9000), standbyLagSeconds: ["b": 0.4, "c": 0.2])
        progress.standbyLSN = ["b": LSN(8800), "c": LSN(8500)]
        // c's record is newer than b's, but the primary saw b flush further this loop.
        let members = [Self.m("b", lsn: 100), Self.m("c", lsn: 8400), Self.m("d", lsn: 8600)]
        #expect(SafetyChecks.rankCandidates(members, timeline: 1, progress: progress).map(\.name) == ["b", "d", "c"])
        #expect(SafetyChecks.rankCandidates(members, timeline: 1).map(\.name) == ["d", "c", "b"], "by records alone")
    }

    @Test func rankingIgnoresTimelineWhenUnknown() {
        #expect(SafetyChecks.rankCandidates([Self.m("x", lsn: 1, timeline: 3)], timeline: nil).map(\.name) == ["x"])
    }

    static let primary = PrimaryProgress(node: "a", timeline: 1, lsn: LSN(1000), standbyLagSeconds: ["b": 2, "c": 30])

    @Test(arguments: [
        ("b", UInt64?(1000), SafetyChecks.RPOVerdict.within(lossBytes: 0, lossSeconds: 0)),
        ("b", 1200, .within(lossBytes: 0, lossSeconds: 0)),
        ("b", 900, .within(lossBytes: 100, lossSeconds: 2)),
        ("c", 900, .beyond(lossBytes: 100, lossSeconds: 30)),
        ("z", 900, .beyond(lossBytes: 100, lossSeconds: nil)),
        ("b", nil, .beyond(lossBytes: nil, lossSeconds: nil)),
    ])
    func rpoGate(candidate: String, lsn: UInt64?, verdict: SafetyChecks.RPOVerdict) {
        #expect(SafetyChecks.rpoGate(candidate: candidate, candidateLSN: lsn.map(LSN.init), primaryProgress: Self.primary, rpo: .seconds(5)) == verdict)
    }

    @Test func rpoGateWithoutPrimaryProgressIsBeyond() {
        #expect(SafetyChecks.rpoGate(candidate: "b", candidateLSN: LSN(1), primaryProgress: nil, rpo: .seconds(60)) == .beyond(lossBytes: nil, lossSeconds: nil))
    }

    @Test func staleTermsAreRefused() {
        let current = LeaderRecord(node: "b", term: 9, lease: 1)
        #expect(SafetyChecks.permits(.promote(node: "b", term: 9), leader: current, me: "b"))
        #expect(!SafetyChecks.permits(.promote(node: "b", term: 8), leader: current, me: "b"), "stale term")
        #expect(!SafetyChecks.permits(.promote(node: "a", term: 9), leader: current, me: "a"), "not the holder")
        #expect(!SafetyChecks.permits(.renewLease(term: 9), leader: nil, me: "b"), "key gone")
        #expect(!SafetyChecks.permits(.renewLease(term: 7), leader: current, me: "a"), "deposed leader cannot renew")
        #expect(SafetyChecks.permits(.follow(node: "a", leader: "b", term: 9), leader: current, me: "a"))
        #expect(!SafetyChecks.permits(.follow(node: "a", leader: "c", term: 9), leader: current, me: "a"))
        #expect(!SafetyChecks.permits(.rejoin(node: "a", leader: "b", term: 8), leader: current, me: "a"))
        #expect(SafetyChecks.permits(.fence(node: "a", reason: .leaseRenewalOverdue), leader: nil, me: "a"), "fencing is always allowed")
        #expect(SafetyChecks.permits(.acquireLeadership(reason: .bestCandidateWithinRPO(node: "a")), leader: current, me: "a"))
    }
}

@Suite struct TickPacingTests {
    @Test(arguments: [
        // interval ms, elapsed ms, renewal missed, pause ms
        (500, 100, false, 400),
        (500, 600, false, 0),
        (500, 100, true, 100),
        (500, 450, true, 50),
        (500, 700, true, 0),
        (1000, 200, true, 200),
        (100, 10, true, 50),
    ])
    func pause(_ row: (Int, Int, Bool, Int)) {
        let pause = TickPacing.pause(interval: .milliseconds(row.0), elapsed: .milliseconds(row.1), renewalMissed: row.2)
        #expect(pause == .milliseconds(row.3))
    }
}
