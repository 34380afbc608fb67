import DRCore
import Testing

/// Safety invariant 3: with `failover.synchronous` no acknowledged commit is lost. The
/// leader's record in etcd never names a standby that may lack one, and only a recorded
/// standby is promoted without an operator.
@Suite struct SynchronousReplicationTests {
    static func member(_ name: String, _ role: NodeRole = .standby, lsn: UInt64 = 1000, healthy: Bool = true, priority: Int = 100) -> MemberRecord {
        MemberRecord(
            name: name, region: name, role: role, timeline: 1, lsn: LSN(lsn), replayLSN: LSN(lsn), lagBytes: 0,
            healthy: healthy, failedChecks: healthy ? 0 : 3, priority: priority, publishedAtMillis: 0)
    }

    static func record(_ standbys: [String], leader: String = "a") -> SynchronousRecord {
        SynchronousRecord(leader: leader, term: 7, standbys: standbys)
    }

    static func step(record: SynchronousRecord?, configured: [String], confirmed: [String] = [], members: [MemberRecord], strict: Bool = false) -> Action? {
        SynchronousReplication.nextStep(
            me: "a", term: 7, record: record, configured: configured, confirmed: confirmed,
            members: [member("a", .primary)] + members, strict: strict)
    }

    @Test func addingAStandbyRecordsItOnlyAfterPostgreSQLWaitsForIt() {
        let members = [Self.member("b")]
        #expect(Self.step(record: nil, configured: [], members: members) == .recordSynchronous([], term: 7), "claim the record first")
        #expect(Self.step(record: Self.record([]), configured: [], members: members) == .setSynchronousStandbys(["b"], term: 7))
        #expect(
            Self.step(record: Self.record([]), configured: ["b"], confirmed: [], members: members) == nil,
            "configured but not yet confirmed (not caught up): not recorded")
        #expect(Self.step(record: Self.record([]), configured: ["b"], confirmed: ["b"], members: members) == .recordSynchronous(["b"], term: 7))
        #expect(Self.step(record: Self.record(["b"]), configured: ["b"], confirmed: ["b"], members: members) == nil, "settled")
    }

    /// synchronous_standby_names changed behind the agent's back (issue 26): b no longer
    /// waited for, though healthy, leaves the record at once — before the agent sets it
    /// back — and rejoins it only once PostgreSQL waits for it again and it caught up.
    @Test func anExternalChangeOfTheSettingShrinksTheRecordFirst() {
        let members = [Self.member("b")]
        #expect(
            Self.step(record: Self.record(["b"]), configured: [], confirmed: [], members: members) == .recordSynchronous([], term: 7),
            "commits stopped waiting for b: the record must not promise them")
        #expect(
            Self.step(record: Self.record(["b"]), configured: ["c"], confirmed: [], members: members + [Self.member("c")])
                == .recordSynchronous([], term: 7))
        #expect(Self.step(record: Self.record([]), configured: [], members: members) == .setSynchronousStandbys(["b"], term: 7), "then set back")
    }

    /// synchronous_commit local or off for the server, a database or a role (issue 26):
    /// those commits never wait, so no standby is recorded as holding them all, and a lost
    /// primary is not replaced automatically as if nothing could be lost.
    @Test func commitsThatSkipTheStandbyLeaveNoStandbyRecorded() {
        let members = [Self.member("b")]
        func step(record: SynchronousRecord?, confirmed: [String]) -> Action? {
            SynchronousReplication.nextStep(
                me: "a", term: 7, record: record, configured: ["b"], confirmed: confirmed, members: [Self.member("a", .primary)] + members,
                strict: false, commitsSkipSynchronous: true)
        }
        #expect(step(record: Self.record(["b"]), confirmed: ["b"]) == .recordSynchronous([], term: 7), "withdrawn at once")
        #expect(step(record: Self.record([]), confirmed: ["b"]) == nil, "and never recorded again while it lasts")
    }

    @Test func aLostStandbyLeavesTheRecordBeforePostgreSQLStopsWaitingForIt() {
        let lost = [Self.member("b", healthy: false)]
        #expect(
            Self.step(record: Self.record(["b"]), configured: ["b"], confirmed: [], members: lost) == .recordSynchronous([], term: 7),
            "etcd first: from here on b may miss acknowledged commits")
        #expect(
            Self.step(record: Self.record([]), configured: ["b"], members: lost) == .setSynchronousStandbys([], term: 7),
            "then asynchronous (not strict)")
        #expect(Self.step(record: Self.record([]), configured: [], members: lost) == nil)
    }

    @Test func strictModeKeepsWaitingForTheLostStandby() {
        let lost = [Self.member("b", healthy: false)]
        #expect(
            Self.step(record: Self.record(["b"]), configured: ["b"], members: lost, strict: true) == nil,
            "b stays synchronous and recorded: writes block, and b still holds every acknowledged commit")
        #expect(
            Self.step(record: Self.record([]), configured: [], members: [], strict: true) == .setSynchronousStandbys(["*"], term: 7),
            "no standby at all: wait for whichever connects")
        #expect(Self.step(record: Self.record([]), configured: ["*"], confirmed: ["*"], members: [], strict: true) == nil, "the wildcard is never recorded")
    }

    @Test func replacingAStandbyEmptiesTheRecordInBetween() {
        let members = [Self.member("b", healthy: false), Self.member("c")]
        #expect(Self.step(record: Self.record(["b"]), configured: ["b"], members: members) == .recordSynchronous([], term: 7))
        #expect(Self.step(record: Self.record([]), configured: ["b"], members: members) == .setSynchronousStandbys(["c"], term: 7))
        #expect(Self.step(record: Self.record([]), configured: ["c"], confirmed: ["c"], members: members) == .recordSynchronous(["c"], term: 7))
    }

    @Test func theCurrentStandbyIsKeptWhileHealthyAndAnotherLeadersRecordIsReplaced() {
        let members = [Self.member("b", lsn: 900), Self.member("c", lsn: 1000)]
        #expect(
            Self.step(record: Self.record(["b"]), configured: ["b"], confirmed: ["b"], members: members) == nil,
            "no churn towards a slightly more advanced standby")
        #expect(
            Self.step(record: Self.record(["a"], leader: "x"), configured: [], members: members) == .recordSynchronous([], term: 7),
            "a new leader claims the record, naming nobody yet")
    }

    // The candidates' side, through decide.
    static let policy: FailoverPolicy = {
        var policy = FailoverPolicy(failuresInARow: 3, rpo: .seconds(5), betterCandidateWait: .seconds(3))
        policy.synchronous = true
        return policy
    }()
    static let progress = PrimaryProgress(node: "a", timeline: 1, lsn: LSN(1200), standbyLagSeconds: ["b": 30, "c": 30])

    static func candidate(_ me: String, record: SynchronousRecord?, members: [MemberRecord], lsn: UInt64 = 1000, intent: FailoverIntent? = nil) -> ClusterView {
        var view = ClusterView(
            me: me, local: LocalDatabase(state: .standby, lsn: LSN(lsn), streamingFrom: "a"), etcdReachable: true, leader: nil,
            members: members, primaryProgress: progress, failoverIntent: intent, leaderMissingSince: .seconds(10))
        view.synchronous = record
        return view
    }

    @Test func theRecordedStandbyTakesOverWhateverTheRPOEstimateSays() {
        let members = [Self.member("b", lsn: 1000), Self.member("c", lsn: 1100)]
        let b = decide(Self.candidate("b", record: Self.record(["b"]), members: members), policy: Self.policy, now: .seconds(11))
        #expect(b.rule == "synchronous-gate")
        #expect(b.actions == [.acquireLeadership(reason: .synchronousStandby(node: "b"))])
        let c = decide(Self.candidate("c", record: Self.record(["b"]), members: members, lsn: 1100), policy: Self.policy, now: .seconds(20))
        #expect(c.actions == [], "c has more WAL, but only b is known to hold every acknowledged commit: c leaves it to b")
    }

    @Test func withoutARecordedStandbyNothingIsPromotedAutomatically() {
        let members = [Self.member("b")]
        for record in [Self.record([]), Self.record(["b"], leader: "someone-else"), nil] {
            let hold = decide(Self.candidate("b", record: record, members: members, lsn: 1200), policy: Self.policy, now: .seconds(20))
            #expect(hold.rule == "synchronous-gate", "\(String(describing: record))")
            guard case .holdForOperator(let reason)? = hold.actions.first else { Issue.record("\(hold)"); continue }
            #expect(reason == .synchronousStandbyUnavailable(node: "b", recorded: []), "none of these names a standby of the lost leader")
            #expect(reason.description.contains("manual intervention required") && reason.description.contains("--accept-data-loss"))
        }
        let gone = decide(
            Self.candidate("c", record: Self.record(["b"]), members: [Self.member("b", healthy: false), Self.member("c")]),
            policy: Self.policy, now: .seconds(20))
        guard case .holdForOperator(let reason)? = gone.actions.first else { Issue.record("\(gone)"); return }
        #expect(reason == .synchronousStandbyUnavailable(node: "c", recorded: ["b"]))
        #expect(reason.description.contains("the synchronous standby (b) is not available"))
        let accepted = decide(
            Self.candidate(
                "c", record: Self.record(["b"]), members: [Self.member("c")], lsn: 1200,
                intent: FailoverIntent(to: "c", acceptDataLoss: true)), policy: Self.policy, now: .seconds(20))
        #expect(accepted.rule == "take-over", "--accept-data-loss stays the way out")
    }

    @Test func theWildcardIsWrittenBare() {
        #expect(SynchronousStandbyNames.format(["*"]) == "ANY 1 (*)")
        #expect(SynchronousStandbyNames.parse("ANY 1 (*)") == ["*"])
    }
}
