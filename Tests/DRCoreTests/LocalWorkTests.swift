import DRCore
import Testing

/// Which work keeps the leader lease renewed beside the loop: a promotion's call, a fence,
/// a restart in place; not a promotion only signalled, nor a failed fence.
@Suite struct LocalWorkTests {
    static let rows: [(LocalWork, LeaseWork?)] = [
        (LocalWork(), nil),
        (LocalWork(promotion: .underway), .promotion),
        (LocalWork(promotion: .signalled), nil),
        (LocalWork(fence: .underway(count: 1, previousFailure: nil)), .fence),
        (LocalWork(fence: .failed("pg_ctl stop timed out")), nil),
        (LocalWork(restartingInPlace: true), .restart),
        (LocalWork(fence: .underway(count: 2, previousFailure: "timed out"), promotion: .underway), .promotion),
    ]

    @Test(arguments: rows.indices) func leaseWork(_ index: Int) {
        let (work, expected) = Self.rows[index]
        #expect(work.leaseWorkUnderway == expected, "\(work)")
    }

    /// A build is running, reporting, failed (what the rules read), or none — one at a time.
    @Test func aStandbyBuildIsInOneStateAtATime() {
        let failure = RejoinFailure(term: 8, message: "no source reachable", at: .seconds(12))
        #expect(LocalWork(clone: .failed(failure)).cloneFailed == failure)
        #expect(LocalWork(clone: .building(nil)).cloneFailed == nil, "a new build replaces the failure")
        #expect(LocalWork(clone: .building(nil)).clone.isBuilding)
        #expect(LocalWork(clone: .idle).cloneFailed == nil && !LocalWork().clone.isBuilding)
    }
}
