import DRAgentTesting
import DRCore
import Foundation
import Testing

/// Planned restarts (issue 28): the leader's database restarted by hand comes back as the
/// primary on its own timeline — paused or not, no failover — and `drctl restart` restarts
/// a node in place.
@Suite struct AgentRestartTests {
    /// What `pg_ctl restart` by hand does to the leader's primary: a clean stop and a start
    /// that the restart guard's standby.signal makes read-only, with the same WAL.
    static func restartByHand(_ cluster: AgentCluster, _ node: String) {
        cluster.servers.change(node) { server in
            server.inRecovery = true
            server.upstream = nil
        }
    }

    @Test(arguments: [false, true])
    func theLeadersDatabaseRestartedByHandComesBackAsThePrimaryOnItsTimeline(paused: Bool) async throws {
        let cluster = try await AgentCluster.bootstrapped()
        defer { cluster.close() }
        if paused { cluster.etcd.put(CoordinationSnapshot.Key.pause, Data("paused".utf8)) }
        try await cluster.run(until: .seconds(10))
        let term = try #require(cluster.etcd.leader?.term)
        let timeline = cluster.servers["a"].timeline
        Self.restartByHand(cluster, "a")
        let back = try await cluster.run(within: .seconds(10)) { cluster.servers.writable == ["a"] }
        #expect(back, "\(cluster.log.text)")
        #expect(cluster.servers["a"].timeline == timeline, "no promotion: the same timeline")
        #expect(cluster.servers.callLog("a").contains("restart in place as primary") && !cluster.servers.callLog("a").contains("promote"))
        try await cluster.run(for: .seconds(10))
        #expect(cluster.etcd.leader?.term == term && cluster.etcd.leader?.node == "a", "the key never moved")
        #expect(cluster.etcd.history.isEmpty, "no failover and no failover evidence")
        #expect(cluster.servers.writable == ["a"] && cluster.safetyViolations.isEmpty)
    }

    @Test func aNewLeaderWhoseDatabaseIsAStandbyIsPromotedNeverRestored() async throws {
        // The other side of the rule: after a failover b's database is a standby of a's
        // timeline with b's claim as progress: it must get a timeline of its own.
        let cluster = try await AgentCluster.bootstrapped()
        defer { cluster.close() }
        try await cluster.run(until: .seconds(10))
        await cluster.loseHost("a")
        let promoted = try await cluster.run(within: .seconds(20)) { cluster.servers.writable == ["b"] }
        #expect(promoted)
        #expect(cluster.servers["b"].timeline == 2 && !cluster.servers.callLog("b").contains("restart in place as primary"))
        #expect(cluster.safetyViolations.isEmpty)
    }

    /// A restart that outlasts the lease (a long shutdown checkpoint): the lease is renewed
    /// while it runs, as during a promotion, so the deadline never fences the database the
    /// agent is restarting and no standby takes over.
    @Test func aRestartLongerThanTheLeaseKeepsTheLease() async throws {
        let cluster = try await AgentCluster.bootstrapped()
        defer { cluster.close() }
        try await cluster.run(until: .seconds(10))
        let term = try #require(cluster.etcd.leader?.term)
        cluster.servers.change("a") { $0.restartTakes = .seconds(12) }
        cluster.etcd.put(CoordinationSnapshot.Key.restart + "a", RestartRequest(pendingOnly: false).value)
        try await cluster.run(for: .seconds(30))
        #expect(cluster.servers.callLog("a").contains("restart in place as primary"), "\(cluster.log.text)")
        #expect(!cluster.servers.callLog("a").contains("fence"), "never fenced: \(cluster.log.text)")
        #expect(cluster.etcd.leader?.term == term && cluster.servers.writable == ["a"] && cluster.etcd.history.isEmpty)
        #expect(cluster.safetyViolations.isEmpty)
    }

    @Test func drctlRestartRestartsTheLeaderAndAStandbyInPlace() async throws {
        let cluster = try await AgentCluster.bootstrapped()
        defer { cluster.close() }
        cluster.etcd.put(CoordinationSnapshot.Key.pause, Data("paused".utf8))
        try await cluster.run(until: .seconds(10))
        cluster.servers.change("a") { $0.pendingRestart = true }
        cluster.etcd.put(CoordinationSnapshot.Key.restart + "a", RestartRequest(pendingOnly: true).value)
        cluster.etcd.put(CoordinationSnapshot.Key.restart + "b", RestartRequest(pendingOnly: true).value)
        try await cluster.run(for: .seconds(3))
        #expect(cluster.servers.callLog("a").contains("restart in place as primary"), "a setting was pending on a")
        #expect(!cluster.servers.callLog("b").contains { $0.hasPrefix("restart in place") }, "nothing pending on b: --pending-only does nothing")
        #expect(cluster.etcd.entry(CoordinationSnapshot.Key.restart + "a") == nil && cluster.etcd.entry(CoordinationSnapshot.Key.restart + "b") == nil)
        cluster.etcd.put(CoordinationSnapshot.Key.restart + "b", RestartRequest(pendingOnly: false).value)
        try await cluster.run(for: .seconds(3))
        #expect(cluster.servers.callLog("b").contains("restart in place"))
        #expect(cluster.servers.writable == ["a"] && cluster.etcd.history.isEmpty && cluster.safetyViolations.isEmpty)
    }
}
