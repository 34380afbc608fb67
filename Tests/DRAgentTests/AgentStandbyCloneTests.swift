import DRAgentTesting
import DRCore
import Foundation
import Testing

/// Standbys the agents build themselves: a node whose disk was replaced comes back as a
/// streaming standby of the leader; one whose build fails waits and tries again; nothing is
/// built without a writable leader, and the leader never builds over itself.
@Suite struct AgentStandbyCloneTests {
    @Test func aStandbyWhoseDiskIsReplacedIsBuiltAnewFromTheLeader() async throws {
        let cluster = try await AgentCluster.bootstrapped()
        defer { cluster.close() }
        try await cluster.run(until: .seconds(10))
        await cluster.loseHost("b")
        cluster.servers.change("b") {
            $0.dataLost = true; $0.cloneFails = true
        }
        await cluster.restoreHost("b")
        try await cluster.run(until: .seconds(20))
        #expect(cluster.servers.callLog("b").filter { $0.hasPrefix("clone from a") }.count == 1, "one attempt, then a wait: \(cluster.log.text)")
        #expect(!cluster.servers["b"].running)
        cluster.servers.change("b") { $0.cloneFails = false }
        try await cluster.run(until: .seconds(60))
        #expect(cluster.servers["b"].running && cluster.servers["b"].inRecovery && cluster.servers["b"].upstream == "a", "\(cluster.log.text)")
        #expect(cluster.log.text.contains("building as a standby"), "progress is logged")
        #expect(cluster.servers.writable == ["a"])
        #expect(cluster.safetyViolations.isEmpty, "\(cluster.safetyViolations)")
    }

    /// The primary's disk is lost: it fails over first (the old leader never builds over
    /// itself while it leads), then the old primary's node is built as a standby of the new one.
    @Test func aLostPrimaryDiskFailsOverThenTheNodeComesBackAsAStandby() async throws {
        let cluster = try await AgentCluster.bootstrapped()
        defer { cluster.close() }
        try await cluster.run(until: .seconds(10))
        cluster.servers.change("a") {
            $0.running = false; $0.dataLost = true
        }
        try await cluster.run(until: .seconds(60))
        #expect(cluster.servers.writable == ["b"], "\(cluster.log.text)")
        #expect(cluster.servers["a"].running && cluster.servers["a"].inRecovery && cluster.servers["a"].upstream == "b", "\(cluster.log.text)")
        #expect(cluster.safetyViolations.isEmpty, "\(cluster.safetyViolations)")
    }

    /// An operator's `drctl reinit` rebuilds a running standby; the intent is then withdrawn.
    @Test func reinitRebuildsARunningStandbyOnce() async throws {
        let cluster = try await AgentCluster.bootstrapped()
        defer { cluster.close() }
        try await cluster.run(until: .seconds(10))
        try await cluster.etcd.client("operator").setReinitIntent(node: "b", true, expiry: .seconds(600))
        try await cluster.run(until: .seconds(30))
        #expect(cluster.servers.callLog("b").filter { $0.hasPrefix("clone from a") }.count == 1, "\(cluster.log.text)")
        #expect(cluster.servers["b"].running && cluster.servers["b"].inRecovery)
        #expect(try await cluster.etcd.client("operator").snapshot().reinitRequested.isEmpty, "the intent is withdrawn once done")
        #expect(cluster.safetyViolations.isEmpty, "\(cluster.safetyViolations)")
    }

    /// A cold region's node is empty by design: its agent leaves it so (no standby load on
    /// the primary) until an operator asks (`drctl reinit`, or `region activate`).
    @Test func aColdRegionsEmptyNodeStaysEmptyUntilAskedFor() async throws {
        var yaml = AgentCluster.configuration(nodes: ["a", "b", "c"])
        yaml = yaml.replacing("- name: region-c\n    role: hot-standby", with: "- name: region-c\n    role: cold")
        #expect(yaml.contains("role: cold"))
        let cluster = try await AgentCluster.bootstrapped(yaml: yaml)
        defer { cluster.close() }
        cluster.servers.change("c") {
            $0.running = false; $0.dataLost = true
        }
        try await cluster.run(until: .seconds(40))
        #expect(!cluster.servers.callLog("c").contains { $0.hasPrefix("clone") }, "\(cluster.log.text)")
        try await cluster.etcd.client("operator").setReinitIntent(node: "c", true, expiry: .seconds(600))
        try await cluster.run(until: .seconds(60))
        #expect(cluster.servers["c"].running && cluster.servers["c"].inRecovery && cluster.servers["c"].upstream == "a", "\(cluster.log.text)")
        #expect(cluster.safetyViolations.isEmpty, "\(cluster.safetyViolations)")
    }

    /// The leader keeps a slot per configured node and drops inactive ones of removed nodes
    /// but never those listed in `replica.ignore_slots`; after a failover the new leader does
    /// the same, so the old primary finds its WAL when it rejoins.
    @Test func theLeaderKeepsTheSlotsOfConfiguredNodesOnly() async throws {
        let yaml = AgentCluster.configuration(nodes: ["a", "b", "c"]) + "replica:\n  ignore_slots: [receivewal]\n"
        let cluster = try await AgentCluster.bootstrapped(yaml: yaml)
        defer { cluster.close() }
        cluster.servers.change("a") { $0.slots = ["b", "gone", "receivewal"] }
        try await cluster.run(until: .seconds(10))
        #expect(cluster.servers["a"].slots == ["b", "c", "receivewal"], "\(cluster.log.text)")
        #expect(cluster.servers.callLog("a").filter { $0.hasPrefix("slots") }.count == 1, "once, then settled: \(cluster.servers.callLog("a"))")
        cluster.servers.change("a") { $0.running = false }
        try await cluster.run(until: .seconds(40))
        let leader = try #require(cluster.servers.writable.first)
        #expect(Set(cluster.servers[leader].slots) == Set(["a", "b", "c"]).subtracting([leader]), "\(cluster.log.text)")
        #expect(cluster.safetyViolations.isEmpty, "\(cluster.safetyViolations)")
    }
}
