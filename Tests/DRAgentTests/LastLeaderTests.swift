import DRAgentTesting
import DRCore
import Foundation
import Testing

/// A standby promoted by hand while its agent was stopped (`pg_ctl promote`, outside
/// drctl), then the primary is lost (issue 26). Its agent comes back to a writable database
/// and a free key: taking it would make the hand-promoted fork the cluster's history and
/// erase everything the real primary wrote after the fork. It waits for an operator instead.
@Suite struct HandPromotionTests {
    @Test func aNodePromotedByHandDoesNotTakeTheFreeKeyOverTheLastLeader() async throws {
        let cluster = try await AgentCluster.bootstrapped()
        defer { cluster.close() }
        try await cluster.run(until: .seconds(10))
        await cluster.killAgent("b")
        cluster.servers.change("b") {
            $0.inRecovery = false
            $0.standbySignal = false
            $0.upstream = nil
            $0.timeline += 1
        }
        try await cluster.run(for: .seconds(10))  // a goes on writing, its progress in etcd
        await cluster.loseHost("a")
        try await cluster.run(for: .seconds(10))  // a's key lapses
        await cluster.startAgent("b")
        try await cluster.run(for: .seconds(20))
        #expect(cluster.etcd.leader == nil, "b took the key over a's later writes: \(cluster.log.text)")
        let hold = await cluster.agent("b")?.currentHold
        #expect(hold == .writableButNotLastLeader(node: "b", lastLeader: "a", timeline: 1), "\(String(describing: hold))")
    }
}

/// A new leader lost right after its promotion, before its first progress write (issue 26):
/// etcd still named the old primary as the last leader, so the old primary, back read-only,
/// passed the RPO gate against its own stale record and took over — erasing every write the
/// new leader had acknowledged. The new leader now claims the progress under its term
/// before it promotes, and nobody's loss is measured against such a claim.
@Suite struct ProgressBeforePromotionTests {
    @Test func aLeaderLostBeforeItsFirstProgressIsNotOverwrittenByTheOldPrimary() async throws {
        let cluster = try await AgentCluster.bootstrapped()
        defer { cluster.close() }
        try await cluster.run(until: .seconds(10))
        await cluster.loseHost("a")
        let promoted = try await cluster.run(within: .seconds(20)) { cluster.servers.writable == ["b"] }
        try #require(promoted, "b was promoted: \(cluster.log.text)")
        await cluster.loseHost("b")  // before its next loop could publish progress
        try await cluster.run(for: .seconds(10))  // b's key lapses
        await cluster.restoreHost("a")
        try await cluster.run(for: .seconds(30))
        #expect(cluster.servers.writable.isEmpty, "a took over from a stale record, erasing b's writes: \(cluster.log.text)")
        #expect(cluster.etcd.leader == nil)
    }
}
