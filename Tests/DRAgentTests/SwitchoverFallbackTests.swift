import DRAgentTesting
import DRCore
import Foundation
import Testing

@testable import DRAgent

/// A switchover whose clean stop fails (the shutdown outlasts its limit, the server keeps
/// running): the old primary is fenced the ordinary way before its key is released, so the
/// target is never promoted beside a server that may still take writes.
@Suite struct SwitchoverFallbackTests {
    @Test func aCleanStopThatFailsFencesTheOldPrimaryBeforeTheKeyIsReleased() async throws {
        let cluster = try await AgentCluster.bootstrapped()
        defer { cluster.close() }
        try await cluster.run(until: .seconds(10))
        let term = try #require(cluster.etcd.leader?.term)
        cluster.servers.change("a") { $0.cleanStopFails = true }
        try await cluster.etcd.client("operator").setSwitchoverIntent(
            SwitchoverIntent(to: "b", requestedAtMillis: cluster.clock.wallMillis), expiry: .seconds(120))
        try await cluster.run(for: .seconds(30))
        let calls = cluster.servers.callLog("a")
        #expect(calls.prefix(2) == ["stop for handover", "fence"], "\(calls)")
        let log = cluster.log.text
        let fenced = try #require(log.range(of: "a critical fencing the local database"), "\(log)")
        let released = try #require(log.range(of: "a notice leader key released"), "\(log)")
        #expect(fenced.lowerBound < released.lowerBound, "fenced before the key went")
        #expect(cluster.etcd.leader?.node == "b" && cluster.etcd.leader?.term != term, "\(log)")
        #expect(cluster.servers.writable == ["b"], "\(log)")
        // With auto_rejoin the fenced old primary then follows the new one.
        #expect(cluster.servers["a"].inRecovery && cluster.servers["a"].upstream == "b", "\(log)")
    }

    /// The same, with the fence failing too: the old primary keeps its key while the fence
    /// is tried again, and nothing is promoted.
    @Test func aFenceThatFailsAfterTheCleanStopKeepsTheKey() async throws {
        let cluster = try await AgentCluster.bootstrapped()
        defer { cluster.close() }
        try await cluster.run(until: .seconds(10))
        let term = try #require(cluster.etcd.leader?.term)
        cluster.servers.change("a") {
            $0.cleanStopFails = true
            $0.fenceFails = true
        }
        try await cluster.etcd.client("operator").setSwitchoverIntent(
            SwitchoverIntent(to: "b", requestedAtMillis: cluster.clock.wallMillis), expiry: .seconds(120))
        try await cluster.run(for: .seconds(30))
        #expect(cluster.etcd.leader?.node == "a" && cluster.etcd.leader?.term == term, "\(cluster.log.text)")
        #expect(cluster.servers.writable == ["a"], "\(cluster.log.text)")
        #expect(await cluster.agent("a")?.currentHold == .fenceFailed(node: "a"), "\(cluster.log.text)")
        #expect(cluster.servers.callLog("a").filter { $0 == "stop for handover" }.count == 1, "the fence is tried again, not the clean stop")
    }
}

/// The fence marker goes only when the action that ends the fence ran: a rejoin toward a
/// leader this agent's configuration does not know (configurations that drifted apart) is an
/// error, and the node stays fenced.
@Suite struct FenceMarkerExecutionTests {
    @Test func aRejoinTowardAnUnknownLeaderLeavesTheNodeFenced() async throws {
        let cluster = try await AgentCluster.bootstrapped()
        defer { cluster.close() }
        try await cluster.run(until: .seconds(10))
        // b fenced (its marker written, its server stopped), and a leader named z that only
        // another configuration knows, reported primary.
        let marker = "\(cluster.stateDir)/b.fenced"
        try Data("fenced for the test".utf8).write(to: URL(fileURLWithPath: marker))
        cluster.servers.change("b") { $0.running = false }
        await cluster.killAgent("a")
        let z = cluster.etcd.client("z")
        try await z.publish(
            MemberRecord(
                name: "z", region: "region-z", role: .primary, timeline: 1, lsn: nil, replayLSN: nil, lagBytes: nil, healthy: true, failedChecks: 0,
                publishedAtMillis: cluster.clock.wallMillis), lease: try await z.grantLease(ttl: .seconds(60)))
        cluster.etcd.put(CoordinationSnapshot.Key.leader, Data("z".utf8))
        try await cluster.etcd.client("operator").setRejoinIntent(node: "b", true, expiry: .seconds(60))
        try await cluster.run(for: .seconds(5))
        #expect(FileManager.default.fileExists(atPath: marker), "\(cluster.log.text)")
        #expect(!cluster.servers["b"].running)
    }
}
