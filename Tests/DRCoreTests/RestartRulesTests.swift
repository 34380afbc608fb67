import DRCore
import Testing

/// The leader's own database back as the primary after a restart outside the agent, and
/// `drctl restart NODE`: table rows over one agent's view, as `DecideTests`.
@Suite struct RestartRulesTests {
    typealias D = DecideTests

    /// Node a leads under term 7; its database runs read-only (came back with standby.signal).
    static func cameBackReadOnly(
        progressNode: String = "a", progressTerm: Int64? = 7, startOfTerm: Bool = false, timeline: Int = 1, lsn: UInt64 = 1000,
        paused: Bool = false, etcd: Bool = true, restoreFailedAt: Double? = nil
    ) -> ClusterView {
        var view = D.primaryView(etcd: etcd, paused: paused, state: .standby)
        var progress = PrimaryProgress(node: progressNode, timeline: 1, lsn: LSN(1000), standbyLagSeconds: [:], startOfTerm: startOfTerm)
        progress.term = progressTerm
        view.primaryProgress = progress
        view.local.timeline = timeline
        view.local.lsn = LSN(lsn)
        view.work.restoreFailedAt = restoreFailedAt.map { .seconds($0) }
        return view
    }

    static func requested(_ view: ClusterView, pendingOnly: Bool = false, pending: Bool = false) -> ClusterView {
        var view = view
        view.requests.restart = RestartRequest(pendingOnly: pendingOnly)
        view.local.pendingRestart = pending
        return view
    }

    static let restore: [Action] = [
        .renewLease(term: 7), .restartInPlace(node: "a", term: 7, asPrimary: true, reason: .ownPrimaryCameBackReadOnly(node: "a", term: 7)),
    ]

    static let rows: [D.Row] = [
        .init(name: "restarted by hand: back as the primary on its timeline", view: cameBackReadOnly(), now: 10, rule: "leader-restores-own-primary", actions: restore),
        .init(name: "the same while paused", view: cameBackReadOnly(paused: true), now: 10, rule: "leader-restores-own-primary", actions: restore),
        .init(name: "it holds more WAL than it published", view: cameBackReadOnly(lsn: 1200), now: 10, rule: "leader-restores-own-primary", actions: restore),
        .init(
            name: "a standby that won the key is promoted, never restored", view: cameBackReadOnly(startOfTerm: true), now: 10, rule: "leader-promotes",
            actions: [.renewLease(term: 7), .promote(node: "a", term: 7)]),
        .init(name: "progress from an earlier term of its own: promoted", view: cameBackReadOnly(progressTerm: 6), now: 10, rule: "leader-promotes", actions: nil),
        .init(name: "progress of an older agent (no term): promoted", view: cameBackReadOnly(progressTerm: nil), now: 10, rule: "leader-promotes", actions: nil),
        .init(name: "another node's progress: promoted", view: cameBackReadOnly(progressNode: "b"), now: 10, rule: "leader-promotes", actions: nil),
        .init(name: "missing WAL it published: promoted", view: cameBackReadOnly(lsn: 900), now: 10, rule: "leader-promotes", actions: nil),
        .init(name: "another timeline: promoted", view: cameBackReadOnly(timeline: 2), now: 10, rule: "leader-promotes", actions: nil),
        .init(name: "a failed start is not retried at once", view: cameBackReadOnly(restoreFailedAt: 5), now: 10, rule: "leader-promotes", actions: nil),
        .init(name: "without etcd nothing starts writable", view: cameBackReadOnly(etcd: false), now: 10, rule: "etcd-unreachable", actions: nil),
        .init(
            name: "drctl restart of the leader's primary", view: requested(D.primaryView()), now: 10, rule: "restart-requested",
            actions: [
                .renewLease(term: 7), .restartInPlace(node: "a", term: 7, asPrimary: true, reason: .restartRequested(node: "a", pendingOnly: false)),
            ]),
        .init(
            name: "drctl restart of the leader's primary, paused", view: requested(D.primaryView(paused: true)), now: 10, rule: "restart-requested",
            actions: nil),
        .init(
            name: "drctl restart of a standby", view: requested(D.standbyView(leader: "a")), now: 10, rule: "restart-requested",
            actions: [.restartInPlace(node: "b", term: nil, asPrimary: false, reason: .restartRequested(node: "b", pendingOnly: false))]),
        .init(
            name: "--pending-only with nothing pending", view: requested(D.standbyView(leader: "a"), pendingOnly: true), now: 10, rule: "restart-requested",
            actions: [.dropRestartRequest(node: "b", reason: .noPendingRestart(node: "b"))]),
        .init(
            name: "--pending-only with a setting pending", view: requested(D.standbyView(leader: "a"), pendingOnly: true, pending: true), now: 10,
            rule: "restart-requested",
            actions: [.restartInPlace(node: "b", term: nil, asPrimary: false, reason: .restartRequested(node: "b", pendingOnly: true))]),
        .init(
            name: "the leader's --pending-only with nothing pending keeps the lease", view: requested(D.primaryView(), pendingOnly: true), now: 10,
            rule: "restart-requested", actions: [.renewLease(term: 7), .dropRestartRequest(node: "a", reason: .noPendingRestart(node: "a"))]),
        .init(
            name: "a failing primary is not restarted in place: the failure rules decide", view: requested(D.primaryView(failed: 1, state: .down)), now: 10,
            rule: "leader-renews", actions: [.renewLease(term: 7)]),
        .init(
            name: "a primary that does not lead is fenced, not restarted", view: requested(D.primaryView(leader: "b", members: [D.member("b", .primary)])),
            now: 10, rule: "foreign-primary-fences", actions: nil),
    ]

    @Test(arguments: rows)
    func decides(_ row: D.Row) {
        let decision = decide(row.view, policy: D.policy, now: .seconds(row.now))
        #expect(decision.rule == row.rule, "actions: \(decision.actions)")
        if let actions = row.actions { #expect(decision.actions == actions) }
    }
}
