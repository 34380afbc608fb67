import DRCoordination
import DRCore
import DRLab
import DRPostgres
import DRSystem
import Foundation
import Testing

extension RealServers {
    @Suite("forced promotion without etcd in the lab")
    struct ForcedPromotionIntegrationTests {
        @Test func withEtcdGoneAnOperatorPromotesByHandAndTheHistoryGetsItLater() async throws {
            try await withLab { lab in
                let state = ["DRCTL_STATE_DIR": "\(lab.dir)/operator"]
                func drctl(_ arguments: [String]) async throws -> CommandRunner.Output {
                    try await CommandRunner.run([try DrctlBinary.path()] + arguments + ["--config", lab.configFile], check: false, environment: state)
                }
                try await lab.etcd[0].stop()
                // Without etcd the primary fences itself at its lease deadline.
                let fenced = try await eventually(within: .seconds(15)) { try await lab.status().nodes.first { $0.name == "pg1" }?.role != .primary }
                #expect(fenced)

                #expect(try await drctl(["promote", "pg2", "--yes"]).status == 2, "--force is required")
                #expect(try await drctl(["promote", "pg1", "--force", "--yes"]).status == 1, "not a reachable standby")
                let promoted = try await drctl(["promote", "pg2", "--force", "--yes", "--reason", "etcd lost, drill"])
                #expect(promoted.status == 0, "\(promoted.stdout)\(promoted.stderr)")
                #expect(promoted.stdout.contains("waits in"), "etcd is down: the record is kept locally")
                let pg2 = try lab.node("pg2")
                let writable = try await PGConnection.withSession(node: "pg2", conninfo: pg2.conninfo) { session in
                    try await !session.query("SELECT pg_is_in_recovery() AS r").single().bool("r")
                }
                #expect(writable)

                try await lab.etcd[0].start()
                let etcd = try EtcdCoordinator.forConfig(try lab.config())
                let claimed = try await eventually(within: .seconds(20)) { try await etcd.leader()?.node == "pg2" }
                #expect(claimed, "the only writable database claims the free leader key once etcd is back")
                let cleared = try await eventually(within: .seconds(10)) {
                    try await PGConnection.withSession(node: "pg2", conninfo: pg2.conninfo) { session in
                        try await session.query("SELECT coalesce(current_setting('drctl.forced_promotion', true), '') AS m").single().string("m").isEmpty
                    }
                }
                #expect(cleared, "leading under a term, the agent removes the forced-promotion marker")
                let history = try await drctl(["history", "--json"])
                #expect(history.status == 0)
                #expect(history.stdout.contains("forced promotion by") && history.stdout.contains("etcd lost, drill"), "\(history.stdout)")
                let pending = (try? FileManager.default.contentsOfDirectory(atPath: "\(lab.dir)/operator/pending-history/lab")) ?? []
                #expect(pending.isEmpty, "sent, then removed")
            }
        }
    }
}
