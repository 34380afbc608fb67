import DRAgentTesting
import DRCore
import Foundation
import Testing

/// Member records are no longer written on a timer, so their publication times say nothing
/// about clocks; each agent measures its own against the leader's progress and publishes
/// the offset (`ClockOffset`), which `drctl status` reports.
@Suite struct ClockOffsetAgentTests {
    static func record(_ node: String, in cluster: AgentCluster) throws -> MemberRecord {
        try JSONDecoder().decode(MemberRecord.self, from: try #require(cluster.etcd.entry("members/\(node)")).value)
    }

    @Test(arguments: [false, true])
    func aStandbyWhoseClockIsSteppedPublishesItsOffsetAndWithdrawsIt(writing: Bool) async throws {
        let cluster = try await AgentCluster.bootstrapped(yaml: AgentCluster.configuration(nodes: ["a", "b", "c"]))
        defer { cluster.close() }
        for node in ["a", "b", "c"] { cluster.servers.change(node) { $0.writing = writing } }
        try await cluster.run(for: .seconds(15))
        #expect(try Self.record("b", in: cluster).clockOffsetSeconds == nil)

        cluster.clock.stepWallClock(of: "b", by: .seconds(-90))
        // Idle, the progress changes every heartbeat (10 s); busy, every loop.
        let seen = try await cluster.run(within: .seconds(25)) { (try? Self.record("b", in: cluster))?.clockOffsetSeconds == -90 }
        #expect(seen, "b's record: \(String(describing: try? Self.record("b", in: cluster)))")
        #expect(try Self.record("c", in: cluster).clockOffsetSeconds == nil, "c's clock is fine")
        #expect(try Self.record("a", in: cluster).clockOffsetSeconds == nil, "the leader has no offset from itself")

        cluster.clock.stepWallClock(of: "b", by: .seconds(90))
        let withdrawn = try await cluster.run(within: .seconds(25)) { (try? Self.record("b", in: cluster))?.clockOffsetSeconds == nil }
        #expect(withdrawn, "b's record: \(String(describing: try? Self.record("b", in: cluster)))")
        #expect(cluster.safetyViolations.isEmpty)
    }

    /// The leader's own clock is judged by whoever reads its progress: `drctl status`
    /// compares the stamp with its host's clock.
    @Test func aLeaderWhoseClockIsSteppedIsReportedByStatus() async throws {
        let cluster = try await AgentCluster.bootstrapped(yaml: AgentCluster.configuration(nodes: ["a", "b", "c"]))
        defer { cluster.close() }
        try await cluster.run(for: .seconds(15))
        let leader = try #require(cluster.etcd.leader)
        cluster.clock.stepWallClock(of: leader.node, by: .seconds(120))
        try await cluster.run(for: .seconds(12))
        let snapshot = try await cluster.etcd.client("operator").snapshot()
        let problems = ClusterStatus.evaluate(
            config: cluster.config, observations: [],
            coordination: .known(leader: snapshot.leader, members: snapshot.members, paused: false, progress: snapshot.progress),
            nowMillis: cluster.clock.wallMillis
        ).problems.filter { $0.contains("clock") }
        // Less the progress's age (up to a loop busy, a heartbeat idle).
        let prefix = "the clock of \(leader.node)'s agent differs from this host's by about "
        let seconds = problems.first { $0.hasPrefix(prefix) }.flatMap { Int($0.dropFirst(prefix.count).prefix { $0.isNumber }) }
        #expect((108...120).contains(seconds ?? 0), "\(problems)")
        // Seen from the leader's clock, both standbys are two minutes behind.
        #expect(problems.contains { $0.contains("s agent is about 120s behind the leader's (\(leader.node))") }, "\(problems)")
    }
}
