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
}
