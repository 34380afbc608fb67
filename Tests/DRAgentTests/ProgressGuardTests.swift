import DRAgentTesting
import DRCoordination
import DRCore
import Testing

/// The `progress` key says which node holds the newest WAL, and so who may be promoted
/// without losing more than the RPO. A deposed leader's agent that wakes from a stall (or
/// whose request a slow network delivers late) must not write its old timeline over its
/// successor's progress: found by the campaign on regions as hosts (seed 5), where the
/// old primary was then promoted from its old timeline and 11.6 s of acknowledged writes
/// were lost.
@Suite struct ProgressGuardTests {
    @Test func aDeposedLeaderCannotOverwriteItsSuccessorsProgress() async throws {
        let etcd = InMemoryEtcd(clock: ManualClock(), prefix: "/drctl/p/")
        let a = etcd.client("a"), b = etcd.client("b")
        let leaseA = try await a.grantLease(ttl: .seconds(5))
        guard case .acquired(let first) = try await a.acquireLeadership(node: "a", lease: leaseA) else {
            Issue.record("a must take the free key")
            return
        }
        let old = PrimaryProgress(node: "a", timeline: 2, lsn: LSN(1000), standbyLagSeconds: ["b": 0.1])
        #expect(try await a.publishProgress(old, term: first.term))
        try await a.revoke(lease: leaseA)
        let leaseB = try await b.grantLease(ttl: .seconds(5))
        guard case .acquired(let second) = try await b.acquireLeadership(node: "b", lease: leaseB) else {
            Issue.record("b must take the key a lost")
            return
        }
        let new = PrimaryProgress(node: "b", timeline: 3, lsn: LSN(5000), standbyLagSeconds: [:])
        #expect(try await b.publishProgress(new, term: second.term))
        #expect(try await a.publishProgress(old, term: first.term) == false, "a's term is over")
        #expect(try await b.snapshot().progress == new)
    }
}
