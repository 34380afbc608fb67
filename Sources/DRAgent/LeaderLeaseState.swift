import DRCore

/// The leader lease as this agent holds it, as one value: etcd's lease the leader key is
/// bound to, and the bookkeeping its deadline counts from. The timers that act on it (the
/// deadline, the heartbeat beside a promotion or a fence) stay with the agent.
struct LeaderLeaseState: Sendable, Equatable {
    /// etcd's id of the lease the leader key is bound to: nil until this agent granted or
    /// renewed one (after an agent restart the key's own lease is renewed by id).
    var id: Int64?
    /// The last confirmed renewal, from whose sending the local deadline counts; nil when
    /// this agent holds no lease it may act on (never took one, released it, was deposed, or
    /// its database was proven fenced).
    var book: LeaseBookkeeping?
    /// The term this loop renewed the lease under before reading etcd (nil outside a loop).
    var renewedAheadOfTheRead: Int64?

    /// etcd confirmed a grant or a renewal sent at `sentAt`.
    mutating func confirmed(id: Int64, term: Int64, ttl: Duration, sentAt: AgentInstant) {
        self.id = id
        book = LeaseBookkeeping(term: term, ttl: ttl, lastConfirmedRenewalSentAt: sentAt)
    }

    /// The key is released: nothing is held.
    mutating func released() {
        id = nil
        book = nil
    }
}
