import DRAgentTesting
import DRCore
import Foundation
import Testing

/// A fence counts only with proof (issue 26): a server that stops answering may still be
/// committing over connections it opened earlier (a stopped postmaster, a server refusing
/// new connections), so no standby is promoted until proving it gone has finished — however
/// long that takes — and the watchdog tries until it has the proof.
@Suite struct FenceProofTests {
    /// The leader's server stops answering and proving it stopped takes far longer than the
    /// lease (12 s against 5 s): the leader keeps its lease through the fence, so the
    /// standby is promoted only after the old server is gone. Before, the fence dropped the
    /// lease at its start and the standby was promoted beside the still-writable server.
    @Test func aFenceThatOutlastsTheLeaseKeepsTheKeyUntilItIsProven() async throws {
        let cluster = try await AgentCluster.bootstrapped()
        defer { cluster.close() }
        try await cluster.run(until: .seconds(10))
        cluster.servers.change("a") {
            $0.frozen = true
            $0.fenceTakes = .seconds(12)
        }
        try await cluster.run(for: .seconds(40))
        #expect(cluster.safetyViolations.isEmpty, "\(cluster.safetyViolations)\n\(cluster.log.text)")
        let stopped = try #require(cluster.stoppedWriting("a", after: .seconds(10)), "\(cluster.log.text)")
        let promoted = try #require(cluster.becameWritable("b", after: .seconds(10)), "the standby takes over once a is gone: \(cluster.log.text)")
        #expect(stopped <= promoted)
        #expect(stopped.sinceStart - .seconds(10) >= .seconds(12), "a's fence ran its whole course")
        #expect(cluster.etcd.leader?.node == "b" && cluster.servers.writable == ["b"])
    }

    /// A fence that fails leaves the leader holding its key (and trying again): no standby
    /// is promoted beside it, and once the fence succeeds the standby takes over.
    @Test func aFailedFenceKeepsTheKeyAndIsTriedAgain() async throws {
        let cluster = try await AgentCluster.bootstrapped()
        defer { cluster.close() }
        try await cluster.run(until: .seconds(10))
        cluster.servers.change("a") {
            $0.frozen = true
            $0.fenceFails = true
        }
        try await cluster.run(for: .seconds(20))
        #expect(cluster.servers.callLog("a").filter { $0 == "fence" }.count >= 2, "tried again: \(cluster.servers.callLog("a"))")
        #expect(cluster.servers.callLog("b").allSatisfy { !$0.hasPrefix("promote") }, "\(cluster.log.text)")
        #expect(cluster.etcd.leader?.node == "a")
        cluster.servers.change("a") { $0.fenceFails = false }
        try await cluster.run(for: .seconds(20))
        #expect(cluster.safetyViolations.isEmpty, "\(cluster.safetyViolations)\n\(cluster.log.text)")
        #expect(cluster.servers.writable == ["b"], "\(cluster.log.text)")
    }

    /// The agent is gone (SIGKILL) and the watchdog's first fence fails: it tries again until
    /// one succeeds, inside the lease, instead of giving up after one attempt and leaving a
    /// writable server beside the standby that takes the lapsed key.
    @Test func theWatchdogTriesAgainUntilTheFenceSucceeds() async throws {
        let cluster = try await AgentCluster.bootstrapped()
        defer { cluster.close() }
        try await cluster.run(until: .seconds(10))
        cluster.servers.change("a") { $0.fenceFails = true }
        await cluster.killAgent("a")
        let fenced = try await cluster.run(within: .seconds(10)) { cluster.servers.callLog("a").contains("fence") }
        #expect(fenced, "the watchdog fenced at the deadline: \(cluster.log.text)")
        cluster.servers.change("a") { $0.fenceFails = false }
        try await cluster.run(for: .seconds(20))
        #expect(cluster.servers.callLog("a").filter { $0 == "fence" }.count >= 2, "\(cluster.servers.callLog("a"))")
        #expect(cluster.safetyViolations.isEmpty, "\(cluster.safetyViolations)\n\(cluster.log.text)")
        #expect(cluster.servers.writable == ["b"], "\(cluster.log.text)")
    }
}

/// Maintenance never disarms fencing (issue 26): paused, the primary's region is cut off
/// from etcd until its lease lapses, then an operator asks for a failover to the standby.
/// Before, pause turned off the lease deadline (and emptied the watchdog's lease file), so
/// the old primary kept taking writes beside the promoted standby.
@Suite struct MaintenanceFencingTests {
    @Test func aFailoverDuringMaintenanceNeverPromotesBesideAWritableOldPrimary() async throws {
        let cluster = try await AgentCluster.bootstrapped()
        defer { cluster.close() }
        try await cluster.run(until: .seconds(10))
        cluster.etcd.put(CoordinationSnapshot.Key.pause, Data("paused".utf8))
        try await cluster.run(for: .seconds(3))
        cluster.etcd.cutOff(["a"])
        try await cluster.run(for: .seconds(10))
        #expect(cluster.etcd.leader == nil, "a's lease lapsed: \(cluster.log.text)")
        #expect(cluster.servers.writable.isEmpty, "paused or not, a fenced itself at its lease deadline: \(cluster.log.text)")
        try await cluster.etcd.client("operator").setFailoverIntent(FailoverIntent(to: "b", acceptDataLoss: true), expiry: .seconds(600))
        try await cluster.run(for: .seconds(10))
        #expect(cluster.servers.writable == ["b"], "the operator's failover was carried out: \(cluster.log.text)")
        cluster.etcd.cutOff([])
        try await cluster.run(for: .seconds(10))
        #expect(cluster.safetyViolations.isEmpty, "\(cluster.safetyViolations)\n\(cluster.log.text)")
        #expect(cluster.servers.writable == ["b"], "after the heal too: \(cluster.log.text)")
    }

    /// Paused, the old primary reachable and leading: an operator's failover intent (which
    /// `drctl failover` itself refuses while a leader holds the key) moves nothing: the key is
    /// never free, so the standby never takes it.
    @Test func aFailoverIntentWhileTheLeaderHoldsTheKeyMovesNothing() async throws {
        let cluster = try await AgentCluster.bootstrapped()
        defer { cluster.close() }
        try await cluster.run(until: .seconds(10))
        cluster.etcd.put(CoordinationSnapshot.Key.pause, Data("paused".utf8))
        try await cluster.etcd.client("operator").setFailoverIntent(FailoverIntent(to: "b", acceptDataLoss: true), expiry: .seconds(600))
        try await cluster.run(for: .seconds(20))
        #expect(cluster.etcd.leader?.node == "a" && cluster.servers.writable == ["a"], "\(cluster.log.text)")
        #expect(cluster.servers.callLog("b").allSatisfy { !$0.hasPrefix("promote") })
        #expect(cluster.safetyViolations.isEmpty, "\(cluster.safetyViolations)")
    }
}

/// Stopping an agent (a service manager's SIGTERM) in the middle of a promotion: its wait is
/// cancelled, but PostgreSQL goes on promoting. The lease must stay guarded by the watchdog,
/// which fences the server at the deadline if no restarted agent renews. Before, the agent
/// still read its database as a standby and published no lease, so the promoted server was
/// left writable and unguarded.
@Suite struct StopDuringPromotionTests {
    @Test func aPromotionLeftBehindByAStoppingAgentIsGuardedByTheWatchdog() async throws {
        let cluster = try await AgentCluster.bootstrapped()
        defer { cluster.close() }
        try await cluster.run(until: .seconds(10))
        cluster.servers.change("b") { $0.promotionTakes = .seconds(8) }
        await cluster.loseHost("a")
        let promoting = try await cluster.run(within: .seconds(30)) { cluster.servers.callLog("b").contains("promote") }
        try #require(promoting, "\(cluster.log.text)")
        try await cluster.run(for: .seconds(1))
        try await cluster.stopAgent("b")
        try await cluster.run(for: .seconds(20))
        #expect(cluster.servers.callLog("b").contains("fence"), "the watchdog fenced the server its agent left promoting: \(cluster.log.text)")
        #expect(cluster.servers.writable.isEmpty, "\(cluster.log.text)")
    }
}
