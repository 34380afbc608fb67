import DRAgentTesting
import DRCore
import Testing

/// A confirmed failover drill on a real cluster: the primary's agent crashes its own
/// database once, withdraws the request first, and the failover that follows is the usual.
@Suite struct AgentDrillCrashTests {
    @Test func thePrimarysAgentCrashesItsDatabaseOnceAndTheStandbyTakesOver() async throws {
        let cluster = try await AgentCluster.bootstrapped()
        defer { cluster.close() }
        try await cluster.run(until: .seconds(10))
        // Asked of the standby: nothing happens (only the leader crashes its primary).
        try await cluster.etcd.client("operator").setDrillCrashIntent(node: "b", true, expiry: .seconds(60))
        try await cluster.run(for: .seconds(5))
        #expect(!cluster.servers.callLog("b").contains("crash for drill"))
        try await cluster.etcd.client("operator").setDrillCrashIntent(node: "b", false, expiry: .seconds(60))
        try await cluster.etcd.client("operator").setDrillCrashIntent(node: "a", true, expiry: .seconds(60))
        try await cluster.run(for: .seconds(30))
        #expect(cluster.servers.callLog("a").filter { $0 == "crash for drill" }.count == 1, "\(cluster.servers.callLog("a"))")
        #expect(cluster.servers.writable == ["b"], "\(cluster.log.text)")
        #expect(try await cluster.etcd.client("operator").snapshot().drillCrashRequested.isEmpty, "withdrawn")
        #expect(cluster.safetyViolations.isEmpty, "\(cluster.safetyViolations)")
    }
}
