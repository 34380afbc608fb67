import DRCore
import Foundation

/// The leader lease on this agent's side: adopting a predecessor's, meeting its deadline
/// to the moment, and the wait between loops (which ends early on a crash or a change of
/// leader).
extension NodeAgent {
    /// Waits until the next loop. Meanwhile the leader's agent waits on its postmaster's
    /// exit and any other agent watches the leader key, so a crash, or a released or
    /// expired key, starts the next loop at once instead of after a poll interval.
    func pause(_ duration: Duration) async {
        let started = clock.now
        let (database, coordinator) = (database, coordinator)
        if leader?.node == node.name {
            if lastLocal?.state == .primary, await CancellableWait.run({ await database.waitForExit(within: duration) }) { return }
        } else if let revision = lastRevision, await CancellableWait.run({ await coordinator.waitForLeaderChange(after: revision, within: duration) }) {
            return
        }
        // A stopping agent goes straight to its last decision.
        if Task.isCancelled { return }
        let left = duration - (clock.now - started)
        if left > .zero { try? await clock.sleep(for: left) }
    }

    /// The leader renews its lease before it reads etcd, not after: a read that meets a
    /// member holding requests or an election may take a good part of the loop, and a
    /// renewal behind it missed its deadline while etcd had long recovered (the RegionCuts
    /// flake of 2026-12-07). Whether to renew is `decide`'s answer from this loop's look at
    /// the database and the cluster as last read (one loop old); only the renewal is carried
    /// out now, everything else waits for the read. Renewing one loop early is safe: the key
    /// is bound to this lease, and only its holder deletes it, so a live lease still holds
    /// the key; a lease that expired meanwhile is refused by etcd.
    func renewAheadOfTheRead(_ local: LocalDatabase) async {
        guard leaderLease.book != nil, lastRevision != nil, !failsafe.leaseFromMembers else { return }
        let early = decide(view(local, etcdReachable: true), policy: policy, now: now)
        let renewal = early.actions.first { if case .renewLease = $0 { true } else { false } }
        guard let renewal, case .renewLease(let term) = renewal, SafetyChecks.permits(renewal, leader: leader, me: node.name) else { return }
        do {
            try await renewLease(term: term)
            leaderLease.renewedAheadOfTheRead = term
        } catch {
            log.warning("renewing the lease ahead of the read failed; the loop tries again after it", metadata: ["error": "\(error)", "term": "\(term)"])
        }
    }

    /// A restarted agent (same boot) takes over the lease its predecessor published: until
    /// etcd confirms or denies it, its database runs exactly as long as the watchdog would
    /// let it — a restart is no failover, and no lease is stretched.
    func adoptPublishedLease() {
        guard let published = FencingWatchdog.read(leaseFile) else { return }
        guard published.bootID == FencingWatchdog.bootID() else {
            // From before a reboot: its instant means nothing here, so a watchdog would fence
            // at once. Right for a server that came up writable; a read-only one (init started
            // it in recovery) would only be taken away as a candidate.
            if !databaseMayAcceptWrites {
                FencingWatchdog.publish(nil, to: leaseFile)
                log.notice("the lease published before the reboot is void: the database came up read-only", metadata: ["term": "\(published.lease.term)"])
            }
            return
        }
        var book = published.lease
        book.lastConfirmedRenewalSentAt = now - (clock.hostMonotonic - published.lease.lastConfirmedRenewalSentAt)
        leaderLease.book = book
        lastTermSeen = book.term
        log.notice("adopted the lease published before this agent started", metadata: ["term": "\(book.term)"])
        armLeaseDeadline()
    }

    /// The lease deadline must be met to the moment, not at the next tick: a tick can be
    /// late by a slow etcd call, and by then the lease may have expired in etcd and a
    /// standby been promoted. So a timer fires at the deadline and asks `decide` — with
    /// what is known, and etcd counted unreachable — whether to fence.
    func armLeaseDeadline() {
        deadlineTimer?.cancel()
        // Armed in maintenance too: an operator's `drctl failover` may promote another node
        // once the key lapses, so the deadline must still fence this one first.
        guard let book = leaderLease.book else {
            failsafe.nextRound?.cancel()
            return FencingWatchdog.publish(nil, to: leaseFile)
        }
        let wait = SafetyChecks.leaseDeadline(book, margin: policy.fencingMargin) - now
        // The same lease for the watchdog process: it fences if this actor cannot.
        let guarded = WatchdogLease.guarded(
            book, database: lastLocal?.state, promotionMayTurnWritable: work.promotion.mayTurnWritable, agentNow: now, hostNow: clock.hostMonotonic)
        FencingWatchdog.publish(guarded, to: leaseFile)
        deadlineTimer = clock.schedule(at: now + max(wait, .zero)) { [weak self] in
            await self?.deadlineReached(book)
        }
        armFailsafeRound()
    }

    /// Whether the watchdog must guard this node's database (`WatchdogLease`).
    var databaseMayAcceptWrites: Bool {
        WatchdogLease.databaseMayAcceptWrites(lastLocal?.state, promotionMayTurnWritable: work.promotion.mayTurnWritable)
    }

    func deadlineReached(_ book: LeaseBookkeeping) async {
        guard leaderLease.book == book, let local = lastLocal else { return }  // renewed meanwhile
        let decision = decide(view(local, etcdReachable: false), policy: policy, now: now)
        log.warning("lease deadline reached without a renewal", metadata: ["rule": "\(decision.rule)"])
        _ = await execute(decision, local: local)
    }
}
