import DRCore
import Testing

/// Which actions write the fence marker and which end it: the marker is what keeps a
/// stopped or read-only database fenced across restarts, so only proof ends it.
@Suite struct FenceMarkerPlanTests {
    static let why = Reason.leaseRenewalOverdue

    static let rows: [(Action, FenceMarkerPlan)] = [
        // A fence marks first (a crash mid-fence leaves a fenced node) and unmarks only when
        // it was not proven: the database is then reported as it is.
        (.fence(node: "a", reason: why), FenceMarkerPlan(before: .replace(why.description), liftOnFailure: true)),
        // A switchover's clean stop: the node rejoins the new leader by itself afterwards.
        (.handOver(SwitchoverIntent(to: "b", requestedAtMillis: 0), term: 7), FenceMarkerPlan(before: .replace("switchover to b (term 7)"))),
        // A rewind stops the standby first: a failed one leaves a fenced node, and an
        // earlier fence's reason is kept.
        (.rejoin(node: "a", leader: "b", term: 8), FenceMarkerPlan(before: .unlessPresent("rewinding to follow b (term 8)"), liftOnSuccess: true)),
        // Proof that it cannot come up writable without this agent.
        (.promote(node: "a", term: 8), FenceMarkerPlan(liftOnSuccess: true)),
        (.cloneStandby(node: "a", leader: "b", term: 8), FenceMarkerPlan(liftOnSuccess: true)),
        (.resumeAsStandby(node: "a", reason: .lastLeaderResumes(node: "a")), FenceMarkerPlan(liftOnSuccess: true)),
        // Nothing else touches it: not a restart, a follow, a drill's crash or a lease.
        (.restartDatabase(node: "a", term: 7), FenceMarkerPlan()),
        (.restartInPlace(node: "a", term: 7, asPrimary: true, reason: .restartRequested(node: "a", pendingOnly: false)), FenceMarkerPlan()),
        (.follow(node: "a", leader: "b", term: 8), FenceMarkerPlan()),
        (.crashForDrill(node: "a", term: 7), FenceMarkerPlan()),
        (.releaseLeadership(term: 7, reason: why), FenceMarkerPlan()),
        (.renewLease(term: 7), FenceMarkerPlan()),
        (.guardRestart(node: "a"), FenceMarkerPlan()),
    ]

    @Test(arguments: rows.indices) func plan(_ index: Int) {
        let (action, plan) = Self.rows[index]
        #expect(FenceMarkerPlan.of(action) == plan, "\(action)")
    }

    @Test func aSwitchoversMarkerSaysSo() {
        guard case .replace(let text)? = FenceMarkerPlan.of(.handOver(SwitchoverIntent(to: "b", requestedAtMillis: 0), term: 7)).before else { Issue.record("no marker"); return }
        #expect(FenceMarkerPlan.isSwitchover(text))
        guard case .replace(let fence)? = FenceMarkerPlan.of(.fence(node: "a", reason: Self.why)).before else { Issue.record("no marker"); return }
        #expect(!FenceMarkerPlan.isSwitchover(fence))
    }
}
