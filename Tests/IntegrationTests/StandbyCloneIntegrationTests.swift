import DRCoordination
import DRLab
import DRPostgres
import DRSystem
import Foundation
import Testing

extension RealServers {
    /// Standbys built by the agents (`replica.create_from: [repository, primary]`): a
    /// standby's data directory is deleted, and its agent builds it anew — from the primary
    /// while the repository holds no base backup, from the repository once it does.
    @Suite("standbys built by the agents in the lab")
    struct StandbyCloneIntegrationTests {
        func streams(_ lab: LabState) async throws -> Bool {
            let pg1 = try lab.node("pg1")
            return try await PGConnection.withSession(node: "pg1", conninfo: pg1.conninfo) { session in
                try await session.query("SELECT 1 FROM pg_stat_replication WHERE application_name = 'pg2' AND state = 'streaming'").rows.count == 1
            }
        }

        func rows(_ lab: LabState) async throws -> Int {
            try await PGConnection.withSession(node: "pg2", conninfo: try lab.node("pg2").conninfo, connectTimeout: .seconds(1)) { session in
                try await session.query("SELECT count(*) AS n FROM kept").single().int("n")
            }
        }

        /// The disk is gone at once: the directory is renamed away (one rename(2)), then
        /// deleted. Deleting it in place raced the agent, which starts clearing and rebuilding
        /// the directory as soon as it looks empty: files vanished under the test's walk (a
        /// failed clean-clone CI run), and deleting again deleted the agent's new build
        /// (the next one).
        func loseDisk(_ path: String) throws {
            let gone = path + ".gone"
            try FileManager.default.moveItem(atPath: path, toPath: gone)
            // The dead postmaster's children may still touch it; the lab's teardown removes what is left.
            try? FileManager.default.removeItem(atPath: gone)
        }

        @Test func aDeletedStandbyComesBackStreamingAndReinitRebuildsIt() async throws {
            try await withLab(failover: LabFailoverSettings(extraConfig: "replica:\n  create_from: [repository, primary]\n")) { lab in
                let pg1 = try lab.node("pg1"), pg2 = try lab.node("pg2")
                try await PGConnection.withSession(node: "pg1", conninfo: pg1.conninfo) { session in
                    _ = try await session.query("CREATE TABLE kept AS SELECT g AS id FROM generate_series(1, 1000) g")
                }
                #expect(try await eventually(within: .seconds(20)) { try await streams(lab) })

                // The disk is gone: the server dies with it, and the directory is empty.
                let postmaster = try #require(
                    try String(contentsOfFile: "\(pg2.dataDir)/postmaster.pid", encoding: .utf8).split(separator: "\n").first.flatMap { Int32($0) })
                kill(postmaster, SIGKILL)
                _ = await ProcessControl.waitForExit(postmaster, within: .seconds(10))
                try loseDisk(pg2.dataDir)
                let agentLog = "\(lab.dir)/agents/region2/agent.log"
                // pg1's WAL sender may report the dead standby for a moment: the build comes first.
                let back = try await eventually(within: .seconds(60)) {
                    guard ((try? String(contentsOfFile: agentLog, encoding: .utf8)) ?? "").contains("built as a standby, starting") else { return false }
                    return try await streams(lab)
                }
                let log = (try? String(contentsOfFile: agentLog, encoding: .utf8)) ?? ""
                #expect(back, "pg2 streams again: \(log.suffix(3000))")
                #expect(log.contains("the repository holds no base backup"), "the repository was tried first: \(log.suffix(2000))")
                #expect(log.contains("built as a standby, starting") && log.contains("primary"), "\(log.suffix(2000))")
                #expect(log.contains("building as a standby") && log.contains("from primary: copying"), "progress is logged: \(log.suffix(2000))")
                #expect(try await rows(lab) == 1000)
                let autoConf = try String(contentsOfFile: "\(pg2.dataDir)/postgresql.auto.conf", encoding: .utf8)
                #expect(autoConf.contains("port = \(pg2.port)") && autoConf.contains("primary_slot_name = 'pg2'"), "its own port, its slot: \(autoConf)")

                // With a base backup in the repository, `drctl reinit` rebuilds it from there.
                let backup = try await CommandRunner.run([try DrctlBinary.path(), "backup", "run", "--kind", "base", "--config", lab.configFile], check: false)
                #expect(backup.status == 0, "\(backup.stderr)")
                try await PGConnection.withSession(node: "pg1", conninfo: pg1.conninfo) { session in
                    _ = try await session.query("INSERT INTO kept SELECT g FROM generate_series(1001, 1500) g")
                    _ = try await session.query("SELECT pg_switch_wal()")
                }
                let refused = try await CommandRunner.run([try DrctlBinary.path(), "reinit", "pg1", "--yes", "--config", lab.configFile], check: false)
                #expect(refused.status != 0 && refused.stderr.contains("never rebuilt"), "\(refused.stderr)")
                let before = try String(contentsOfFile: "\(pg2.dataDir)/postmaster.pid", encoding: .utf8)
                let reinit = try await CommandRunner.run([try DrctlBinary.path(), "reinit", "pg2", "--yes", "--config", lab.configFile], check: false)
                #expect(reinit.status == 0, "\(reinit.stdout)\(reinit.stderr)")
                let rebuilt = try await eventually(within: .seconds(60)) {
                    let now = (try? String(contentsOfFile: "\(pg2.dataDir)/postmaster.pid", encoding: .utf8)) ?? before
                    guard now != before, (try? await streams(lab)) == true else { return false }
                    return (try? await rows(lab)) == 1500
                }
                let after = (try? String(contentsOfFile: agentLog, encoding: .utf8)) ?? ""
                #expect(rebuilt, "\(after.suffix(3000))")
                #expect(after.contains("\"from\": \"repository\"") || after.contains("from=repository"), "\(after.suffix(2000))")
                let restoreCommand = try String(contentsOfFile: "\(pg2.dataDir)/postgresql.auto.conf", encoding: .utf8)
                #expect(restoreCommand.contains("restore_command = '") && restoreCommand.contains("wal-fetch"), "\(restoreCommand)")
                let etcd = try EtcdCoordinator.forConfig(try lab.config())
                #expect(try await etcd.snapshot().reinitRequested.isEmpty, "the intent was withdrawn")
            }
        }

        /// The primary keeps the slots of configured nodes: a standby's slot that vanished
        /// comes back reserving WAL (and the standby streams through it again), a removed
        /// node's slot is dropped, and `replica.ignore_slots` is left alone.
        @Test func thePrimaryKeepsTheSlotsOfConfiguredNodesOnly() async throws {
            try await withLab(failover: LabFailoverSettings(extraConfig: "replica:\n  ignore_slots: [receivewal]\n")) { lab in
                let pg1 = try lab.node("pg1")
                let query = { (sql: String) in
                    try await PGConnection.withSession(node: "pg1", conninfo: pg1.conninfo) { session in
                        try await session.query(sql).rows.map { try $0.string("slot_name") }
                    }
                }
                #expect(try await eventually(within: .seconds(20)) { try await streams(lab) })
                _ = try await query("SELECT slot_name FROM pg_create_physical_replication_slot('pg9')")
                _ = try await query("SELECT slot_name FROM pg_create_physical_replication_slot('receivewal')")
                // Drop pg2's slot in the moment its WAL receiver is gone (it reconnects within seconds).
                let dropped = try await eventually(within: .seconds(20)) {
                    _ = try await query("SELECT pg_terminate_backend(pid)::text AS slot_name FROM pg_stat_replication WHERE application_name = 'pg2'")
                    return try await query(
                        "SELECT pg_drop_replication_slot(slot_name)::text AS slot_name FROM pg_replication_slots WHERE slot_name = 'pg2' AND NOT active"
                    ).count == 1
                }
                #expect(dropped)
                let kept = try await eventually(within: .seconds(30)) {
                    let slots = Set(try await query("SELECT slot_name FROM pg_replication_slots WHERE slot_name <> 'pg2' OR restart_lsn IS NOT NULL"))
                    return slots == ["pg2", "receivewal"]
                }
                let log = (try? String(contentsOfFile: "\(lab.dir)/agents/region1/agent.log", encoding: .utf8)) ?? ""
                #expect(kept, "pg2's slot back (reserving WAL), pg9's dropped, receivewal kept: \(log.suffix(2000))")
                #expect(try await eventually(within: .seconds(30)) { try await streams(lab) }, "pg2 streams through its slot again")
                #expect(try await query("SELECT slot_name FROM pg_replication_slots WHERE slot_name = 'pg2' AND active").count == 1)
            }
        }

        /// An old primary whose data directory is damaged (pg_control gone) cannot be rewound:
        /// the failed rejoin shows in `drctl status`, `drctl rejoin` then refuses to try the
        /// same again unattended and, asked with --reclone, has it rebuilt as a standby.
        @Test func aRejoinThatCannotWorkFallsBackToARebuildOnlyWhenAsked() async throws {
            try await withLab { lab in
                let etcd = try EtcdCoordinator.forConfig(try lab.config())
                let drctl = { (arguments: [String]) in
                    try await CommandRunner.run([try DrctlBinary.path()] + arguments + ["--config", lab.configFile], check: false)
                }
                let pg1 = try lab.node("pg1")
                kill(try #require(pg1.pid), SIGKILL)
                let failedOver = try await eventually(within: .seconds(20)) { try await etcd.leader()?.node == "pg2" }
                let fenced = try await eventually(within: .seconds(10)) { try await etcd.members().first { $0.name == "pg1" }?.role == .fenced }
                #expect(failedOver && fenced)
                try FileManager.default.removeItem(atPath: "\(pg1.dataDir)/global/pg_control")

                #expect(try await drctl(["rejoin", "pg1", "--yes"]).status == 0)
                let failed = try await eventually(within: .seconds(30)) { try await etcd.members().first { $0.name == "pg1" }?.rejoinFailure != nil }
                #expect(failed, "the failed rewind is published")
                let status = try await drctl(["status"])
                #expect(status.stdout.contains("pg1 could not be brought back as a standby"), "\(status.stdout)")
                let unattended = try await drctl(["rejoin", "pg1", "--yes"])
                #expect(unattended.status == 1 && unattended.stderr.contains("--reclone"), "\(unattended.stdout)\(unattended.stderr)")
                let plan = try await drctl(["rejoin", "pg1", "--dry-run"])
                #expect(plan.stdout.contains("will be DELETED") && plan.stdout.contains("dry run"), "\(plan.stdout)")

                let rebuild = try await drctl(["rejoin", "pg1", "--yes", "--reclone"])
                #expect(rebuild.status == 0 && rebuild.stdout.contains("rebuild requested"), "\(rebuild.stdout)\(rebuild.stderr)")
                let back = try await eventually(within: .seconds(60)) {
                    guard let member = try await etcd.members().first(where: { $0.name == "pg1" }) else { return false }
                    return member.role == .standby && member.rejoinFailure == nil
                }
                #expect(back, "pg1 streams from pg2, rebuilt")
                let intents = try await etcd.snapshot()
                #expect(intents.reinitRequested.isEmpty && intents.rejoinRequested.isEmpty, "both intents consumed")
            }
        }
    }
}
