import DRCoordination
import DRCore
import Foundation

/// Restarts in place (`restartInPlace`): the same node, the same role, the same timeline —
/// no promotion, no failover evidence. The leader's database is started without
/// `standby.signal` only after the lease is confirmed with margin, and the guard is back the
/// moment it runs, so a start outside the agent still comes up read-only.
extension NodeAgent {
    func restartInPlace(asPrimary: Bool, term: Int64?, reason: Reason) async throws {
        if asPrimary {
            // The start without the guard happens under a lease this agent knows is live.
            guard let book = leaderLease.book, let term, book.term == term, !SafetyChecks.mustSelfFence(book, now: now, margin: policy.fencingMargin) else {
                throw AgentError.staleTerm(node: node.name, term: term ?? 0, what: "restarting the database as the primary")
            }
        }
        log.notice("restarting the database in place", metadata: ["role": "\(asPrimary ? "primary" : "standby")", "reason": "\(reason)"])
        let started = now
        // A shutdown checkpoint or a slow start may outlast the lease: it is renewed every
        // interval meanwhile, as during a promotion, so the deadline does not fence the
        // database this agent is restarting.
        if asPrimary, let term {
            work.restartingInPlace = true
            scheduleHeartbeat(term: term)
        }
        defer {
            work.restartingInPlace = false
            if work.leaseWorkUnderway == nil {
                promotionHeartbeat?.cancel()
                promotionHeartbeat = nil
            }
        }
        do {
            try await database.restartInPlace(asPrimary: asPrimary)
        } catch {
            if asPrimary { work.restoreFailedAt = now }
            try? await coordinator.setRestartIntent(node: node.name, nil, expiry: operatorIntentExpiry)
            requests.restart = nil
            // A database left down is the failure rules' business (and their notifications).
            log.error("restarting the database in place failed", metadata: ["error": "\(error)"])
            throw error
        }
        work.restoreFailedAt = nil
        if requests.restart != nil {
            try? await coordinator.setRestartIntent(node: node.name, nil, expiry: operatorIntentExpiry)
            requests.restart = nil
        }
        log.notice(
            "database restarted in place", metadata: ["role": "\(asPrimary ? "primary" : "standby")", "seconds": "\(String(format: "%.2f", (now - started).seconds))"])
    }

    func dropRestartRequest(_ reason: Reason) async throws {
        log.warning("restart request withdrawn without a restart", metadata: ["reason": "\(reason)"])
        try await coordinator.setRestartIntent(node: node.name, nil, expiry: operatorIntentExpiry)
        requests.restart = nil
    }
}
