import DRAgentTesting
import DRCore
import Testing

/// etcd's own leader elections, on the lab's settings (2 s lease, 500 ms checks: the
/// leader's deadline is 1.5 s after its last renewal). A member caught without a leader holds
/// each request about an election time-out and then answers "leader changed"; an election
/// that swallows two of the leader's loops must not cost it the lease.
@Suite struct AgentEtcdElectionTests {
    static let lab = AgentCluster.configuration(leaseTTL: "2s", interval: "500ms")

    /// The election starts 100 ms after the primary's renewal at 10.3 s (its loops run at
    /// .3 and .8) and ends at 11.4 or 11.6 s: the loops at 10.8 and 11.3 s meet it, the next
    /// regular one (11.8 s) is the deadline. Found by CI's three-member etcd lab test.
    @Test(arguments: [1000, 1200])
    func anEtcdElectionCostsTheLeaderNoLoopItNeeds(milliseconds: Int) async throws {
        let cluster = try await AgentCluster.bootstrapped(yaml: Self.lab)
        defer { cluster.close() }
        try await cluster.run(until: .seconds(10.4))
        let before = try #require(cluster.etcd.leader)
        cluster.etcd.electLeader(for: .milliseconds(milliseconds))
        try await cluster.run(for: .seconds(10))
        #expect(cluster.stoppedWriting("a", after: .seconds(10)) == nil, "the primary kept writing: \(cluster.log.text)")
        #expect(cluster.etcd.leader == before, "same leader, same term")
        #expect(cluster.etcd.history.isEmpty, "no failover")
        #expect(cluster.log.text.contains("leader changed"), "the election was met")
        #expect(cluster.safetyViolations.isEmpty, "\(cluster.safetyViolations)")
    }

    /// An election longer than the lease's margin allows is a lost lease: the primary fences
    /// at its deadline, and once etcd has a leader again one primary leads.
    @Test func anElectionLongerThanTheDeadlineFencesAndOnePrimaryFollows() async throws {
        let cluster = try await AgentCluster.bootstrapped(yaml: Self.lab)
        defer { cluster.close() }
        try await cluster.run(until: .seconds(10.4))
        cluster.etcd.electLeader(for: .seconds(4))
        try await cluster.run(for: .seconds(3))
        #expect(cluster.servers.writable.isEmpty, "fenced at the deadline: \(cluster.log.text)")
        try await cluster.run(for: .seconds(15))
        #expect(cluster.servers.writable.count == 1, "\(cluster.log.text)")
        #expect(cluster.safetyViolations.isEmpty, "\(cluster.safetyViolations)")
    }

    /// The RegionCuts flake (2026-12-07): one loop's read waited on members that had lost
    /// their raft leader, about three seconds, and the renewal came after it — four seconds
    /// after the last, at the deadline of a 5 s lease with 1 s loops. The leader renews ahead
    /// of its read now, so a read that slow costs it nothing; reads that slow for good leave
    /// the lease renewed once per loop.
    @Test func aSlowReadDoesNotHoldUpTheLeadersRenewal() async throws {
        let cluster = try await AgentCluster.bootstrapped()
        defer { cluster.close() }
        try await cluster.run(until: .seconds(10))
        cluster.etcd.slowReads(["a": .milliseconds(3200)])
        try await cluster.run(for: .seconds(20))
        #expect(cluster.stoppedWriting("a", after: .seconds(10)) == nil, "the primary kept writing: \(cluster.log.text)")
        #expect(cluster.etcd.history.isEmpty, "no failover")
        #expect(cluster.safetyViolations.isEmpty, "\(cluster.safetyViolations)")
    }
}
