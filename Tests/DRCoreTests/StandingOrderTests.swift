import DRCore
import Testing

/// The standing orders ride beside whichever row decides: the restart guard is added to a
/// running primary's actions when its `standby.signal` is missing, never beside a fence,
/// and never changes what the row itself decided.
@Suite struct StandingOrderTests {
    struct Row: CustomTestStringConvertible, Sendable {
        var name: String
        var view: ClusterView
        var now: Double = 10
        var rule: String
        var actions: [Action]
        var testDescription: String { name }
    }

    static func unguarded(_ view: ClusterView) -> ClusterView {
        var view = view
        view.local.restartGuarded = false
        return view
    }

    static let guardA = Action.guardRestart(node: "a")

    static let rows: [Row] = [
        Row(
            name: "the leader's primary, unguarded: renews and guards", view: unguarded(DecideTests.primaryView()), rule: "leader-renews",
            actions: [.renewLease(term: 7), guardA]),
        Row(
            name: "in maintenance too", view: unguarded(DecideTests.primaryView(paused: true)), rule: "paused",
            actions: [.renewLease(term: 7), guardA]),
        Row(
            name: "without etcd, within its lease: nothing but the guard", view: unguarded(DecideTests.primaryView(etcd: false)),
            rule: "etcd-unreachable", actions: [guardA]),
        Row(
            name: "its lease overdue: the fence writes the guard itself", view: unguarded(DecideTests.primaryView(renewedAt: 4)),
            rule: "fence-on-lease-deadline",
            actions: [.fence(node: "a", reason: .leaseRenewalOverdue), .alert(reason: .fencedItselfLeaseOverdue(node: "a"))]),
        Row(
            name: "another node leads: fenced, no guard beside the fence",
            view: unguarded(DecideTests.primaryView(leader: "b", members: [DecideTests.member("b", .primary)])), rule: "foreign-primary-fences",
            actions: [.fence(node: "a", reason: .otherLeader(node: "b", term: 7))]),
        Row(name: "guarded already: nothing added", view: DecideTests.primaryView(), rule: "leader-renews", actions: [.renewLease(term: 7)]),
        Row(
            name: "a standby is not guarded (standby.signal is what makes it one)",
            view: unguarded(DecideTests.standbyView(leader: "a")), rule: "standby-follows-leader", actions: []),
        Row(
            name: "a fenced node is not guarded (its fence wrote it)",
            view: unguarded(DecideTests.primaryView(leader: "b", state: .fenced, members: [DecideTests.member("b", .primary)])),
            rule: "fenced-stays-fenced", actions: [.holdForOperator(reason: .fencedUntilRejoined(node: "a"))]),
    ]

    @Test(arguments: rows) func decides(_ row: Row) {
        let decision = decide(row.view, policy: DecideTests.policy, now: .seconds(row.now))
        #expect(decision.rule == row.rule)
        #expect(decision.actions == row.actions)
    }

    /// Whatever the row, the guard only ever adds itself: the actions of the same view with
    /// the guard in place are the same, less the guard.
    @Test(arguments: rows) func addsOnlyItself(_ row: Row) {
        var guarded = row.view
        guarded.local.restartGuarded = true
        let with = decide(row.view, policy: DecideTests.policy, now: .seconds(row.now))
        let without = decide(guarded, policy: DecideTests.policy, now: .seconds(row.now))
        #expect(with.rule == without.rule)
        #expect(with.actions.filter { $0 != Self.guardA } == without.actions)
    }
}
