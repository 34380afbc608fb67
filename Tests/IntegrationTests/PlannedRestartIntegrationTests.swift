import DRCoordination
import DRCore
import DRLab
import DRPostgres
import DRSystem
import Foundation
import Testing

extension RealServers {
    @Suite("planned restarts in the lab: by hand and with drctl restart")
    struct PlannedRestartIntegrationTests {
        func drctl(_ arguments: [String]) async throws -> CommandRunner.Output {
            try await CommandRunner.run([try DrctlBinary.path()] + arguments, check: false)
        }

        func timelineOf(_ node: PostgresServer) async throws -> Int {
            try await PGConnection.withSession(node: "pg", conninfo: node.conninfo) { session in
                try await session.query("SELECT timeline_id FROM pg_control_checkpoint()").single().int("timeline_id")
            }
        }

        @Test func restartsKeepThePrimaryOnItsTimelineWithoutAFailover() async throws {
            try await withLab { lab in
                let etcd = try EtcdCoordinator.forConfig(try lab.config())
                let pg1 = try lab.node("pg1")
                let ready = try await eventually(within: .seconds(10)) { try await lab.status().verdict == .healthy }
                #expect(ready)
                let term = try #require(try await etcd.leader()?.term)
                let timeline = try await timelineOf(pg1)

                // Paused, as an operator would be: pg_ctl restart by hand. The restart guard
                // brings it up read-only; its agent starts it again as the primary.
                #expect(try await drctl(["pause", "--yes", "--config", lab.configFile]).status == 0)
                let pgctl = try PostgresBinaries.binary("pg_ctl")
                _ = try await CommandRunner.run([pgctl, "-D", pg1.dataDir, "-m", "fast", "-w", "restart", "-l", "\(pg1.dataDir)/by-hand.log"], as: .forPostgres)
                let back = try await eventually(within: .seconds(15)) {
                    let status = try await lab.status()
                    return status.nodes.first { $0.name == "pg1" }?.role == .primary && status.verdict != .noPrimary
                }
                #expect(back, "pg1 is the primary again")
                let timelineAfter = try await timelineOf(pg1), termAfter = try await etcd.leader()?.term, history = try await etcd.history()
                #expect(timelineAfter == timeline, "the same timeline: no promotion")
                #expect(termAfter == term && history.isEmpty, "no failover, no evidence")
                #expect(try await drctl(["resume", "--yes", "--config", lab.configFile]).status == 0)

                // A setting that needs a restart: status shows it; drctl restart --pending-only applies it.
                try await PGConnection.withSession(node: "pg1", conninfo: pg1.conninfo) { session in
                    _ = try await session.query("ALTER SYSTEM SET max_connections = 90")
                    _ = try await session.query("SELECT pg_reload_conf()")
                }
                let pending = try await eventually(within: .seconds(5)) {
                    try await drctl(["status", "--json", "--config", lab.configFile]).stdout.contains("\"pending_restart\" : true")
                }
                #expect(pending)
                let none = try await drctl(["restart", "pg2", "--pending-only", "--yes", "--config", lab.configFile])
                #expect(none.status == 0 && none.stdout.contains("nothing to do"), "\(none.stdout)\(none.stderr)")
                let restarted = try await drctl(["restart", "pg1", "--pending-only", "--yes", "--config", lab.configFile])
                #expect(restarted.status == 0 && restarted.stdout.contains("pg1 restarted: primary again"), "\(restarted.stdout)\(restarted.stderr)")
                let applied = try await PGConnection.withSession(node: "pg1", conninfo: pg1.conninfo) { session in
                    try await session.query("SELECT current_setting('max_connections') AS m").single().string("m")
                }
                #expect(applied == "90")
                let timelineLater = try await timelineOf(pg1), termLater = try await etcd.leader()?.term, historyLater = try await etcd.history()
                #expect(timelineLater == timeline && historyLater.isEmpty && termLater == term)
                let standby = try await drctl(["restart", "pg2", "--yes", "--config", lab.configFile])
                #expect(standby.status == 0 && standby.stdout.contains("pg2 restarted: standby again"), "\(standby.stdout)\(standby.stderr)")
                let healthy = try await eventually(within: .seconds(10)) { try await lab.status().verdict == .healthy }
                #expect(healthy)
            }
        }
    }
}
