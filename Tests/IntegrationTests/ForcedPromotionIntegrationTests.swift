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
        /// The marker exempts a node from fencing, so only a superuser's setting counts
        /// (ALTER SYSTEM, as `drctl promote --force` writes it): a database owner's
        /// `ALTER DATABASE … SET drctl.forced_promotion` must not, and while one exists the
        /// marker is not trusted at all (issue 26).
        @Test func onlyASuperusersSettingCountsAsAForcedPromotion() async throws {
            try await withLab(agents: false) { lab in
                let pg1 = try lab.node("pg1")
                func forced() async -> String? {
                    guard case .primary(let state) = await NodeProbe().observe(node: "pg1", conninfo: pg1.conninfo).result else { return "not a primary" }
                    return state.forcedPromotion
                }
                let setting = PrimaryState.forcedPromotionSetting
                try await PGConnection.withSession(node: "pg1", conninfo: pg1.conninfo) { session in
                    _ = try await session.query("ALTER DATABASE postgres SET \(setting) = 'by the database owner'")
                }
                #expect(await forced() == nil, "a per-database setting exempts nothing")
                try await PGConnection.withSession(node: "pg1", conninfo: pg1.conninfo) { session in
                    _ = try await session.query("SET \(setting) = ''")
                    _ = try await session.query("ALTER SYSTEM SET \(setting) = 'by an operator'")
                    _ = try await session.query("SELECT pg_reload_conf()")
                }
                try await Task.sleep(for: .milliseconds(500))  // the reload is asynchronous
                #expect(await forced() == nil, "not trusted while a database sets it too")
                try await PGConnection.withSession(node: "pg1", conninfo: pg1.conninfo) { session in
                    _ = try await session.query("ALTER DATABASE postgres RESET \(setting)")
                }
                #expect(await forced() == "by an operator", "ALTER SYSTEM, and nothing else: trusted")
            }
        }

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
                // (A per-database marker — as releases before 2026-12-05 set it, or a database
                // owner could — is not trusted since issue 26: `onlyASuperusersSettingCounts…`.)

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

        /// A forced promotion that does not finish in time (pg2's startup process stopped)
        /// withdraws its marker: a node left a standby must not keep an exemption from
        /// fencing. When the promotion completes later anyway, the node has no marker, and
        /// its agent, with no lease and no etcd, fences it.
        @Test func aForcedPromotionThatFailsWithdrawsItsMarker() async throws {
            try await withLab { lab in
                try await lab.etcd[0].stop()
                let fenced = try await eventually(within: .seconds(15)) { try await lab.status().nodes.first { $0.name == "pg1" }?.role != .primary }
                #expect(fenced)
                let pg2 = try lab.node("pg2")
                let postmaster = try #require(
                    try String(contentsOfFile: "\(pg2.dataDir)/postmaster.pid", encoding: .utf8).split(separator: "\n").first.flatMap { Int32($0) })
                let found = try await CommandRunner.run(["pgrep", "-P", String(postmaster), "-f", "startup"], check: false)
                let startup = try #require(Int32(found.stdout.trimmingCharacters(in: .whitespacesAndNewlines)), "pg2's startup process: \(found.stdout)")
                kill(startup, SIGSTOP)
                defer { kill(startup, SIGCONT) }

                let promoted = try await CommandRunner.run(
                    [try DrctlBinary.path(), "promote", "pg2", "--force", "--yes", "--config", lab.configFile], check: false,
                    environment: ["DRCTL_STATE_DIR": "\(lab.dir)/operator"])
                #expect(promoted.status == 1 && promoted.stderr.contains("did not finish"), "\(promoted.stdout)\(promoted.stderr)")
                let marker = try await PGConnection.withSession(node: "pg2", conninfo: pg2.conninfo) { session in
                    try await session.query("SELECT coalesce(current_setting('drctl.forced_promotion', true), '') AS m").single().string("m")
                }
                #expect(marker.isEmpty, "the marker was withdrawn: \(marker)")
                let autoConf = try String(contentsOfFile: "\(pg2.dataDir)/postgresql.auto.conf", encoding: .utf8)
                #expect(!autoConf.contains("forced_promotion"), "\(autoConf)")

                kill(startup, SIGCONT)
                let writableThenFenced = try await eventually(within: .seconds(20)) {
                    let log = (try? String(contentsOfFile: pg2.logFile, encoding: .utf8)) ?? ""
                    let promotedLate = log.contains("database system is ready to accept connections")
                    let refused =
                        (try? await PGConnection.withSession(node: "pg2", conninfo: pg2.conninfo, connectTimeout: .seconds(1)) { session in
                            try await session.query("SELECT pg_is_in_recovery() AS r").single().bool("r")
                        }) ?? true
                    return promotedLate && refused
                }
                #expect(writableThenFenced, "the late promotion completed and pg2's agent fenced it (no marker, no lease, no etcd)")
            }
        }
    }
}
