import DRCoordination
import DRCore

/// What this agent last wrote to etcd about itself: the member lease and when it was last
/// renewed, the member record and the progress as written. `PublicationSchedule` compares
/// against it so that an unchanged record is not written again every loop.
struct EtcdPublication: Sendable {
    var memberLease: Int64?
    var memberLeaseRenewedAt: AgentInstant?
    var member: PublicationSchedule.Written<MemberRecord>?
    var progress: PublicationSchedule.Written<PrimaryProgress>?

    /// The member lease is gone (expired during an outage, revoked): a new one is granted,
    /// and the record, which went with the old one, is written again under it.
    mutating func memberLeaseLost() {
        memberLease = nil
        memberLeaseRenewedAt = nil
        member = nil
    }

    /// Whether `error` says the lease a write named no longer exists.
    static func namesLostLease(_ error: any Error) -> Bool {
        switch error {
        case CoordinationError.leaseExpired: true
        case CoordinationError.server(_, _, _, let message): message.contains("lease not found")
        default: false
        }
    }
}
