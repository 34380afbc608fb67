import DRAgentTesting
import DRCore
import Foundation
import Testing

/// A reloaded configuration reaches the loop: a standby tagged `nofailover` by a reload is
/// not promoted when the primary's host is lost, and its record says so.
@Suite struct AgentReloadTests {
    static func member(_ cluster: AgentCluster, _ name: String) -> MemberRecord? {
        cluster.etcd.entry(CoordinationSnapshot.Key.members + name).flatMap { try? JSONDecoder().decode(MemberRecord.self, from: $0.value) }
    }

    @Test func aReloadedNofailoverTagKeepsTheStandbyFromBeingPromoted() async throws {
        let cluster = try await AgentCluster.bootstrapped()
        defer { cluster.close() }
        try await cluster.run(until: .seconds(10))
        var tagged = cluster.config
        tagged.regions[1].nodes[0].tags.insert(.nofailover)
        await cluster.agent("b")?.reload(tagged, hash: "0123456789ab")
        try await cluster.run(for: .seconds(3))
        let record = Self.member(cluster, "b")
        #expect(record?.nofailover == true && record?.configHash == "0123456789ab", "the record carries what the reload set")
        await cluster.loseHost("a")
        try await cluster.run(for: .seconds(30))
        #expect(cluster.becameWritable("b", after: .seconds(13)) == nil, "\(cluster.log.text)")
        #expect(cluster.etcd.leader?.node != "b")
        #expect(cluster.safetyViolations.isEmpty)
    }

    @Test func aReloadThatNamesNoSuchNodeIsNotApplied() async throws {
        let cluster = try await AgentCluster.bootstrapped()
        defer { cluster.close() }
        var renamed = cluster.config
        renamed.regions[1].nodes[0].name = "z"
        await cluster.agent("b")?.reload(renamed, hash: "ffffffffffff")
        try await cluster.run(for: .seconds(3))
        #expect(Self.member(cluster, "b")?.configHash != "ffffffffffff")
        #expect(cluster.log.text.contains("the reloaded configuration has no node b"))
    }
}
