import DRCoordination
import DRCore
import DRLab
import DRSystem
import Foundation
import Testing

extension RealServers {
    @Suite("etcd's raft leader kept out of the primary's region")
    struct EtcdLeaderPlacementIntegrationTests {
        /// Region N names etcd member eN; region3 is the witness (no database).
        @Test func theLeadersAgentMovesEtcdsLeaderAwayFromItsRegion() async throws {
            try await withLab(etcdMembers: 3, failover: LabFailoverSettings(leaseTTL: "4s", etcdPlacement: true)) { lab in
                let etcd = try EtcdCoordinator.forConfig(try lab.config())
                #expect(try await eventually { try await etcd.leader()?.node == "pg1" })
                // Wherever etcd's election put its leader, it is not left beside the primary.
                #expect(try await eventually(within: .seconds(15)) { await EtcdServer.leader(of: lab.etcd).map { $0.name != "e1" } == true })
                // Past the keeper's first look at the term (within a second of the lease):
                // what follows needs its periodic one.
                try await Task.sleep(for: .seconds(3))
                // An election (or an operator) puts etcd's leader beside the primary again.
                let leadership = try await etcd.etcdLeadership()
                let e1 = try #require(leadership.members.first { $0.name == "e1" })
                try await etcd.moveEtcdLeader(to: e1.id, leaderURLs: leadership.clientURLs[leadership.leaderID] ?? [])
                #expect(try await eventually(within: .seconds(3)) { await EtcdServer.leader(of: lab.etcd)?.name == "e1" }, "etcd's leader moved beside pg1")
                let movedBack = try await eventually(within: .seconds(20)) { await EtcdServer.leader(of: lab.etcd)?.name == "e3" }
                #expect(movedBack, "the leader's agent moves it away again within its check interval, to the witness region")
                let api = try #require(Lab.status(dir: lab.dir).agents.first { $0.region == "region1" }?.api)
                // etcd's leader changes before MoveLeader's answer reaches the agent, which counts then.
                var metrics = ""
                let counted = try await eventually(within: .seconds(5)) {
                    metrics = try await CommandRunner.run(["curl", "-s", "\(api)/metrics"], check: false).stdout
                    return metrics.contains("drctl_etcd_leader_moves_total{cluster=\"lab\"}")
                }
                #expect(counted, "counted: \(metrics.split(separator: "\n").filter { $0.contains("leader_moves") })")
                #expect(try await etcd.leader()?.node == "pg1")
                #expect(try await etcd.history().isEmpty, "no failover")
            }
        }
    }
}
