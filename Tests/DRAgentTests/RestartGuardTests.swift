import DRAgentTesting
import DRCore
import Testing

@testable import DRAgent

/// The restart guard as the agent keeps it: a running primary's `standby.signal` is written
/// back at the next loop whenever it is missing — after the agent's own promotion
/// (PostgreSQL removes the file when it promotes) or after someone removed it — so a start
/// by hand, by the host's boot or after a crash comes up read-only.
@Suite struct RestartGuardTests {
    @Test func aPrimaryWithoutItsGuardHasItBackAtTheNextLoop() async throws {
        let cluster = try await AgentCluster.bootstrapped()
        defer { cluster.close() }
        try await cluster.run(until: .seconds(10))
        #expect(cluster.servers["a"].standbySignal)
        cluster.servers.change("a") { $0.standbySignal = false }
        try await cluster.run(for: .seconds(2))
        #expect(cluster.servers["a"].standbySignal, "\(cluster.log.text)")
        #expect(cluster.servers.writable == ["a"], "the guard changes nothing while the server runs")
    }

    @Test func aPromotedStandbyIsGuardedOnceItIsWritable() async throws {
        let cluster = try await AgentCluster.bootstrapped()
        defer { cluster.close() }
        try await cluster.run(until: .seconds(10))
        cluster.servers.change("a") {
            $0.running = false; $0.startFails = true
        }
        try await cluster.run(for: .seconds(20))
        #expect(cluster.servers.writable == ["b"], "\(cluster.log.text)")
        #expect(cluster.servers["b"].standbySignal, "\(cluster.log.text)")
    }
}
