/// Restarts in place: the leader's own database back as the primary after a restart outside
/// the agent, and `drctl restart NODE`. They come before `paused`: a restart is what an
/// operator pauses for, and neither promotes anything or moves the key.
extension FailoverRule {
    static let restarts: [FailoverRule] = [
        FailoverRule(
            id: "leader-restores-own-primary",
            summary:
                "The leader's own database came back read-only (a `pg_ctl restart` by hand, a service manager: the restart guard's standby.signal makes every start read-only) although this node published its progress as primary under the current term and has all of it: nobody else can have written, so it is started again as the primary on its own timeline, without a promotion — no new timeline, no failover, standbys keep streaming. Also while paused. Not again for a while after a failed start."
        ) { input in
            guard input.view.etcdReachable, input.view.iAmLeader, input.local.state == .standby, !input.local.archiveRecovery, let term = input.leaderTerm,
                let progress = input.view.primaryProgress, progress.node == input.me, progress.term == term, !progress.startOfTerm,
                let timeline = input.local.timeline, timeline == progress.timeline, let lsn = input.local.lsn, lsn >= progress.lsn
            else { return nil }
            // After a failed start the rules below decide (unpaused, a promotion: safe, a new timeline).
            if let failed = input.work.restoreFailedAt, input.now - failed < input.policy.rejoinRetry { return nil }
            return [
                .renewLease(term: term),
                .restartInPlace(node: input.me, term: term, asPrimary: true, reason: .ownPrimaryCameBackReadOnly(node: input.me, term: term)),
            ]
        },
        FailoverRule(
            id: "restart-requested",
            summary:
                "`drctl restart NODE`: a healthy running standby is restarted as a standby; the leader's healthy primary is restarted as the primary on its own timeline, keeping the key. With --pending-only, only when a setting waits for a restart (else the request is withdrawn). In any other state the other rules decide first (a primary that does not lead is fenced, not restarted) and the request waits or expires. Also while paused."
        ) { input in
            guard let request = input.requests.restart, input.view.etcdReachable, input.local.failedChecks == 0 else { return nil }
            let reason = Reason.restartRequested(node: input.me, pendingOnly: request.pendingOnly)
            let lease: [Action]
            let asPrimary: Bool
            switch input.local.state {
            case .primary where input.view.iAmLeader:
                guard let term = input.leaderTerm else { return nil }
                (lease, asPrimary) = ([.renewLease(term: term)], true)
            case .standby where !input.local.archiveRecovery:
                (lease, asPrimary) = ([], false)
            default:
                return nil
            }
            if request.pendingOnly, !input.local.pendingRestart { return lease + [.dropRestartRequest(node: input.me, reason: .noPendingRestart(node: input.me))] }
            return lease + [.restartInPlace(node: input.me, term: asPrimary ? input.leaderTerm : nil, asPrimary: asPrimary, reason: reason)]
        },
    ]
}
