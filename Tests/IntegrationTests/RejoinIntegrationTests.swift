import DRCoordination
import DRCore
import DRLab
import DRPostgres
import Foundation
import Testing

extension RealServers {
    @Suite("database crash and automatic rejoin in the lab")
    struct RejoinIntegrationTests {
        @Test func aCrashedPrimaryFailsOverAtOnceAndRejoinsAsAStandbyOfTheNewOne() async throws {
            try await withLab(failover: LabFailoverSettings(autoRejoin: true)) { lab in
                let etcd = try EtcdCoordinator.forConfig(try lab.config())
                let pg1 = try lab.node("pg1"), pg2 = try lab.node("pg2")
                let writer = "host=\(pg1.host),\(pg2.host) port=\(pg1.port),\(pg2.port) user=postgres dbname=postgres target_session_attrs=read-write"
                try await PGConnection.withSession(node: "writer", conninfo: writer) { session in
                    _ = try await session.query("CREATE TABLE rows (id int PRIMARY KEY)")
                    _ = try await session.query("INSERT INTO rows SELECT generate_series(1, 100)")
                }
                #expect(try await eventually { try await lab.status().nodes.first { $0.name == "pg2" }?.lagBytes == 0 })

                kill(try #require(pg1.pid), SIGKILL)
                let promoted = try await eventually(within: .seconds(20)) { try await etcd.leader()?.node == "pg2" }
                #expect(promoted, "agent log:\n\(agentLog(lab).suffix(2500))")
                #expect(agentLog(lab).contains("postmaster process gone"), "a gone postmaster is failed at once, not after N checks")

                // New writes land on pg2's new timeline; pg1 must come back with them.
                _ = try await eventually(within: .seconds(20)) {
                    (try? await PGConnection.withSession(node: "writer", conninfo: writer, connectTimeout: .seconds(1)) { session in
                        _ = try await session.query("INSERT INTO rows SELECT generate_series(101, 150)")
                        return true
                    }) ?? false
                }
                let rejoined = try await eventually(within: .seconds(60)) {
                    guard try await lab.status().nodes.first(where: { $0.name == "pg1" })?.role == .standby else { return false }
                    let count = try? await PGConnection.withSession(node: "pg1", conninfo: pg1.conninfo, connectTimeout: .seconds(1)) { session in
                        try await session.query("SELECT count(*) AS n FROM rows").single().int("n")
                    }
                    return count == 150
                }
                let restartLog = (try? String(contentsOfFile: "\(pg1.dataDir)/drctl-restart.log", encoding: .utf8)) ?? "none"
                #expect(rejoined, "pg1 streams from pg2 again; agent log:\n\(agentLog(lab).suffix(3000))\nserver log:\n\(restartLog.suffix(2000))")
                #expect(!FileManager.default.fileExists(atPath: "\(lab.dir)/agents/region1/pg1.fenced"), "the fence is lifted once it is a standby")
                #expect(
                    try await eventually(within: .seconds(10)) { try await etcd.members().first { $0.name == "pg1" }?.role == .standby },
                    "its agent publishes it as a standby")

                let evidence = try #require(try await etcd.history().last)
                #expect(evidence.events.first?.name == "first failed check", "\(evidence.events)")
            }
        }

        private func agentLog(_ lab: LabState) -> String {
            (try? String(contentsOfFile: "\(lab.dir)/agents/region1/agent.log", encoding: .utf8)) ?? "none"
        }
    }
}
