import DRCore
import Testing

/// `drctl status --all`: a cluster's line from its agents' records alone.
@Suite struct FleetStatusTests {
    static func member(_ name: String, _ role: NodeRole, healthy: Bool = true, lag: UInt64? = 0) -> MemberRecord {
        MemberRecord(
            name: name, region: "r", role: role, timeline: 1, lsn: nil, replayLSN: nil, lagBytes: lag, healthy: healthy, failedChecks: healthy ? 0 : 3,
            publishedAtMillis: 0)
    }

    static func snapshot(leader: String?, _ members: [MemberRecord]) -> CoordinationSnapshot {
        CoordinationSnapshot(revision: 9, leader: leader.map { LeaderRecord(node: $0, term: 4, lease: 1) }, members: members)
    }

    @Test func verdictsFromTheRecords() {
        let healthy = FleetStatus.row(cluster: "shop", snapshot: Self.snapshot(leader: "a", [Self.member("a", .primary), Self.member("b", .standby, lag: 4096)]), lastFailover: nil)
        #expect(healthy.verdict == .healthy && healthy.leader == "a" && healthy.term == 4 && healthy.maxLagBytes == 4096 && healthy.problems.isEmpty)
        let degraded = FleetStatus.row(
            cluster: "shop", snapshot: Self.snapshot(leader: "a", [Self.member("a", .primary), Self.member("b", .down, healthy: false)]), lastFailover: nil)
        #expect(degraded.verdict == .degraded && degraded.problems == ["b is down, not a healthy standby"])
        let leaderless = FleetStatus.row(cluster: "shop", snapshot: Self.snapshot(leader: nil, [Self.member("b", .standby)]), lastFailover: nil)
        #expect(leaderless.verdict == .noPrimary && leaderless.problems == ["no node holds the leader key"])
        let notPrimary = FleetStatus.row(cluster: "shop", snapshot: Self.snapshot(leader: "b", [Self.member("b", .standby)]), lastFailover: nil)
        #expect(notPrimary.verdict == .noPrimary, "a leader still promoting is not a primary yet")
        #expect(!FleetStatus(clusters: [healthy, degraded]).isHealthy && FleetStatus(clusters: [healthy]).isHealthy)
    }
}
