/// When an agent writes what it publishes to etcd, and when it renews its member lease.
///
/// Every cluster of a fleet shares one etcd, and every raft write is paid by all of them
/// (docs/fleet.md). So a member record is written when what it says changed, not every
/// loop, and not on a timer either: a write whose answer was lost, a restored etcd or a
/// record someone else overwrote shows in the loop's own read, which is compared with what
/// was written. The leader's progress carries what readers need fresh every loop (the
/// standbys' positions and loss windows). The member lease is renewed when a third of its
/// TTL has passed, so a dead agent's record still disappears within one TTL. See
/// docs/design.md, "What a cluster costs etcd".
public struct PublicationSchedule: Sendable, Equatable {
    /// An unchanged progress is written again after this long: its publication time is
    /// what `drctl status` compares the leader's clock with, and what other agents compare
    /// theirs with (`ClockOffset`).
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

    /// Whether the member record `next` is written now: when what it says changed
    /// (`MemberRecord.material`), or when `stored` — this node's record as the last read
    /// returned it — is not the record last written (gone with a restored etcd, a write
    /// whose answer was lost, overwritten). Also every loop while no node holds the leader
    /// key: the candidates are then ranked on each other's positions, which must be this
    /// loop's.
    public func memberDue(_ next: MemberRecord, last: Written<MemberRecord>?, stored: MemberRecord?, leaderKnown: Bool) -> Bool {
        guard let last, leaderKnown else { return true }
        return stored != last.record || next.material != last.record.material
    }

    /// Whether the leader's progress `next` is written now: whenever it differs (a busy
    /// primary's position moves every loop, and the RPO gate measures against it).
    public func progressDue(_ next: PrimaryProgress, last: Written<PrimaryProgress>?, now: AgentInstant) -> Bool {
        guard let last else { return true }
        var unstamped = next
        unstamped.publishedAtMillis = last.record.publishedAtMillis
        return unstamped != last.record || now - last.at >= heartbeat
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
    /// commit and are left out (the leader's progress carries the primary's and each
    /// standby's every loop they move; with no leader, records are written every loop);
    /// lag counts in whole WAL segments, a clock's offset in steps of `ClockOffset.step`;
    /// the publication time and the length of a failure streak are derived.
    public var material: MemberRecord {
        var record = self
        record.lsn = nil
        record.replayLSN = nil
        record.lagBytes = lagBytes.map { $0 / Self.lagGranularity }
        record.publishedAtMillis = 0
        record.failingForMillis = nil
        record.clockOffsetSeconds = clockOffsetSeconds.map { $0 / ClockOffset.step }
        return record
    }
}
