import DRCoordination
import DRCore
import DRLab
import DRPostgres
import DRSystem
import Foundation
import Testing

extension RealServers {
    @Suite("lab with real PostgreSQL, etcd and PowerDNS")
    struct LabIntegrationTests {
        @Test func upStatusFaultAndDown() async throws {
            var labDir = ""
            try await withLab { lab in
                labDir = lab.dir
                // The written config is a real one that validates.
                let config = try lab.config()
                #expect(config.nodes.map(\.node.name) == ["pg1", "pg2"])
                #expect(config.regions.map(\.role) == [.primary, .hotStandby, .cold])

                let report = try await lab.status()
                #expect(report.verdict == .healthy, "\(report.problems)")
                let pg1 = try #require(report.nodes.first { $0.name == "pg1" })
                let pg2 = try #require(report.nodes.first { $0.name == "pg2" })
                #expect(pg1.role == .primary && pg1.host == "127.0.1.1" && pg1.timeline == 1)
                #expect(pg2.role == .standby && pg2.host == "127.0.2.1")
                #expect(pg2.replication == "streaming")
                #expect(pg2.lagBytes != nil)

                // "Up" means a switchover or failover could run now: the primary's progress and
                // every node's member record are already in etcd (a runbook's switchover once ran
                // before pg2's record was, and was refused).
                let etcd = try EtcdCoordinator.forConfig(config)
                #expect(try await etcd.progress() != nil)
                #expect(Set(try await etcd.members().map(\.name)) == ["pg1", "pg2"])

                // The primary has the standby's slot, in use.
                let session = try await lab.node("pg1").connect()
                let slot = try await session.query("SELECT active FROM pg_replication_slots WHERE slot_name = 'pg2'").single()
                #expect(try slot.bool("active"))
                await session.close()

                // Every server runs, and DNS answers with region 1's address.
                let status = try Lab.status(dir: lab.dir)
                #expect(status.nodes.allSatisfy { $0.pid != nil })
                #expect(status.etcd.pid != nil && status.dns.pid != nil)
                #expect(try await lab.dns.lookup(lab.dns.record) == ["127.0.1.1"])

                // A second `lab up` on a live lab refuses and changes nothing.
                let before = try String(contentsOfFile: "\(lab.dir)/lab.json", encoding: .utf8)
                await #expect(throws: LabError.self) { try await Lab.up(dir: lab.dir, agentBinary: nil) }
                #expect(try String(contentsOfFile: "\(lab.dir)/lab.json", encoding: .utf8) == before)
                #expect(try Lab.status(dir: lab.dir).nodes.map(\.pid) == status.nodes.map(\.pid))

                // A stopped standby shows as down, and the cluster as degraded.
                try await lab.node("pg2").stop()
                let degraded = try await lab.status()
                #expect(degraded.verdict == .degraded)
                let down = try #require(degraded.nodes.first { $0.name == "pg2" })
                #expect(down.role == .down && !down.reachable && down.error != nil)
            }
            // `lab down` leaves no process and no directory.
            #expect(!FileManager.default.fileExists(atPath: labDir))
            #expect(ProcessControl.processes(mentioning: labDir).isEmpty)
        }

        @Test func hundredMegabytesShowAsLagThenDrain() async throws {
            try await withLab { lab in
                let primary = try await lab.node("pg1").connect()
                let standby = try await lab.node("pg2").connect()
                defer {
                    Task {
                        await primary.close(); await standby.close()
                    }
                }

                // Pausing replay holds the lag in place long enough to observe it on any machine.
                _ = try await standby.query("SELECT pg_wal_replay_pause()")
                _ = try await primary.query(
                    """
                    CREATE TABLE lag_test AS
                    SELECT g AS id, repeat(md5(g::text), 32) AS payload FROM generate_series(1, 100000) AS g
                    """)
                let lagging = try await eventually {
                    let pg2 = try await lab.status().nodes.first { $0.name == "pg2" }
                    return (pg2?.lagBytes ?? 0) >= 100_000_000
                }
                #expect(lagging, "100 MB written with replay paused must show as at least 100 MB of lag")
                let report = try await lab.status()
                let pg2 = try #require(report.nodes.first { $0.name == "pg2" })
                #expect((pg2.lagSeconds ?? 0) > 0)
                #expect(report.problems.contains { $0.contains("pg2 has WAL replay paused") })
                #expect(pg2.receiveLSN.map { $0 > (pg2.replayLSN ?? .zero) } == true, "received but not replayed")

                _ = try await standby.query("SELECT pg_wal_replay_resume()")
                let drained = try await eventually {
                    let report = try await lab.status()
                    return report.nodes.first { $0.name == "pg2" }?.lagBytes == 0 && report.verdict == .healthy
                }
                #expect(drained, "lag must drain to zero once replay resumes")
                let rows = try await standby.query("SELECT count(*) AS n FROM lag_test").single()
                #expect(try rows.int("n") == 100_000)
            }
        }
    }
}
