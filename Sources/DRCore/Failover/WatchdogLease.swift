/// Which lease the fencing watchdog guards (`FencingWatchdog`, a process of its own that
/// fences at the deadline when the agent cannot). Pure; the agent publishes the answer to
/// the watchdog's lease file after every renewal and every change of its database.
public enum WatchdogLease {
    /// Whether the database may accept writes, so that a missed deadline must fence it: a
    /// primary; a server that stopped answering (stalled, not stopped, it may still commit);
    /// a promotion under way or signalled (it completes without the agent); or nothing
    /// observed yet (a restarted agent). A standby that won the key and has not begun to
    /// promote is read-only, and stopping it would only take away a candidate; a fenced one
    /// is stopped already.
    public static func databaseMayAcceptWrites(_ state: LocalDatabase.State?, promotionMayTurnWritable: Bool) -> Bool {
        promotionMayTurnWritable || state.map { $0 == .primary || $0 == .down } ?? true
    }

    /// The lease the watchdog guards: the agent's `book`, its last confirmed renewal moved
    /// from the agent's clock (`agentNow`) to the host's monotonic one (`hostNow`, shared by
    /// every process of the host), or nil — nothing to guard — without a lease or while the
    /// database cannot accept writes.
    public static func guarded(
        _ book: LeaseBookkeeping?, database state: LocalDatabase.State?, promotionMayTurnWritable: Bool, agentNow: AgentInstant, hostNow: AgentInstant
    ) -> LeaseBookkeeping? {
        guard let book, databaseMayAcceptWrites(state, promotionMayTurnWritable: promotionMayTurnWritable) else { return nil }
        var shared = book
        shared.lastConfirmedRenewalSentAt = hostNow - (agentNow - book.lastConfirmedRenewalSentAt)
        return shared
    }
}
