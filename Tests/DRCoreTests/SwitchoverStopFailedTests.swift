import DRCore
import Testing

/// A switchover whose clean stop failed: the old primary is fenced before its key goes, a
/// failed fence keeps the key (and waits for an operator), and a failure under an older
/// term decides nothing.
@Suite struct SwitchoverStopFailedTests {
    static let why = Reason.switchoverFailed(error: "clean stop on a failed: the shutdown did not finish in time")

    static func leader(failedUnderTerm term: Int64 = 7, fence: FenceState = .idle, state: LocalDatabase.State = .primary) -> ClusterView {
        var view = DecideTests.primaryView(state: state)
        view.switchover = SwitchoverIntent(to: "b", requestedAtMillis: 0)
        view.work.handoverFailed = RejoinFailure(term: term, message: "clean stop on a failed: the shutdown did not finish in time", at: .seconds(10))
        view.work.fence = fence
        return view
    }

    static let rows: [(String, ClusterView, String, [Action])] = [
        (
            "the clean stop failed: fence, then release", leader(), "switchover-stop-failed",
            [.fence(node: "a", reason: why), .releaseLeadership(term: 7, reason: why)]
        ),
        (
            "the server stopped anyway (seen down): still fenced, for the proof", leader(state: .down), "switchover-stop-failed",
            [.fence(node: "a", reason: why), .releaseLeadership(term: 7, reason: why)]
        ),
        (
            "the fence failed: keep the lease, wait for an operator, fence again", leader(fence: .failed("pg_ctl stop timed out")),
            "switchover-stop-failed",
            [.renewLease(term: 7), .holdForOperator(reason: .fenceFailed(node: "a")), .fence(node: "a", reason: why), .releaseLeadership(term: 7, reason: why)]
        ),
        (
            "a failure under an older term decides nothing: the handover is tried under this one", leader(failedUnderTerm: 6), "leader-hands-over",
            [.renewLease(term: 7), .handOver(SwitchoverIntent(to: "b", requestedAtMillis: 0), term: 7)]
        ),
    ]

    @Test(arguments: rows.indices) func decides(_ index: Int) {
        let (name, view, rule, actions) = Self.rows[index]
        let decision = decide(view, policy: DecideTests.policy, now: .seconds(10))
        #expect(decision.rule == rule, "\(name)")
        #expect(decision.actions == actions, "\(name)")
    }

    /// An agent that no longer leads (its release went through) is not held by the failure.
    @Test func aReleasedLeaderIsNotHeldByIt() {
        var view = Self.leader()
        view.leader = LeaderRecord(node: "b", term: 8, lease: 2)
        view.local.state = .fenced
        #expect(decide(view, policy: DecideTests.policy, now: .seconds(10)).rule != "switchover-stop-failed")
    }
}
