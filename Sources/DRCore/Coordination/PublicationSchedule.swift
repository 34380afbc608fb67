/// When an agent writes what it publishes to etcd, and when it renews its member lease.
///
/// Every cluster of a fleet shares one etcd, and every raft write is paid by all of them
/// (docs/fleet.md). So a record is written when what it says changed, not every loop; a
/// slow heartbeat rewrites it anyway (a write whose answer was lost, a restored etcd). The
/// member lease is renewed when a third of its TTL has passed, so a dead agent's record
/// still disappears within one TTL. See docs/design.md, "What a cluster costs etcd".
public struct PublicationSchedule: Sendable, Equatable {
    /// A record unchanged for this long is written again.
    public var heartbeat: Duration
    /// The member lease's TTL.
    public var leaseTTL: Duration

    /// The heartbeat drctl uses: short enough that `drctl status` still sees a clock that
    /// is a quarter of a minute off, long enough to cost a fleet little.
    public static let defaultHeartbeat: Duration = .seconds(10)

    public init(heartbeat: Duration = PublicationSchedule.defaultHeartbeat, leaseTTL: Duration) {
        self.heartbeat = heartbeat
        self.leaseTTL = leaseTTL
    }

    /// A record as last written, and when (on the agent's monotonic clock).
    public struct Written<Record: Sendable & Equatable>: Sendable, Equatable {
        public var record: Record
        public var at: AgentInstant
        public init(_ record: Record, at: AgentInstant) {
            self.record = record
            self.at = at
        }
    }

    /// Whether the member record `next` is written now. Also every loop while no node
    /// holds the leader key: the candidates are then ranked on each other's positions,
    /// which must be this loop's, not a heartbeat old.
    public func memberDue(_ next: MemberRecord, last: Written<MemberRecord>?, leaderKnown: Bool, now: AgentInstant) -> Bool {
        guard let last, leaderKnown else { return true }
        return next.material != last.record.material || now - last.at >= heartbeat
    }

    /// Whether the leader's progress `next` is written now: whenever it differs (a busy
    /// primary's position moves every loop, and the RPO gate measures against it).
    public func progressDue(_ next: PrimaryProgress, last: Written<PrimaryProgress>?, now: AgentInstant) -> Bool {
        guard let last else { return true }
        return next != last.record || now - last.at >= heartbeat
    }

    /// Whether the member lease is renewed now: once a third of its TTL has passed since the
    /// last confirmed renewal, which leaves two more loops' worth of tries before it lapses
    /// at any interval up to a third of the TTL.
    public func memberLeaseRenewalDue(lastRenewedAt: AgentInstant?, now: AgentInstant) -> Bool {
        guard let lastRenewedAt else { return true }
        return now - lastRenewedAt >= leaseTTL / 3
    }
}

extension MemberRecord {
    /// Bytes of lag that make a difference to a reader: one WAL segment.
    static let lagGranularity: UInt64 = 16 << 20

    /// What a reader acts on or an operator must see at once. Positions move with every
    /// commit and are left out (the heartbeat refreshes them; the leader's progress carries
    /// the primary's every loop); lag counts in whole WAL segments; the publication time
    /// and the length of a failure streak are derived.
    public var material: MemberRecord {
        var record = self
        record.lsn = nil
        record.replayLSN = nil
        record.lagBytes = lagBytes.map { $0 / Self.lagGranularity }
        record.publishedAtMillis = 0
        record.failingForMillis = nil
        return record
    }
}
