import DRCoordination
import DRCore
import DRLab
import DRPostgres
import Foundation
import Testing

@Suite("automatic failover in the lab")
struct FailoverIntegrationTests {
    @Test func killingThePrimaryPromotesTheStandbyWithoutLosingAcknowledgedWrites() async throws {
        try await withLab { lab in
            let config = try lab.config()
            let coordinator = try EtcdCoordinator.forConfig(config)
            #expect(try await coordinator.leader()?.node == "pg1")
            let pg1 = try lab.node("pg1"), pg2 = try lab.node("pg2")
            // A client that, like an application, finds whichever node accepts writes.
            let writer = "host=\(pg1.host),\(pg2.host) port=\(pg1.port),\(pg2.port) user=postgres dbname=postgres target_session_attrs=read-write"

            try await PGConnection.withSession(node: "writer", conninfo: writer) { session in
                _ = try await session.query("CREATE TABLE acked (id int PRIMARY KEY)")
                for id in 1...200 { _ = try await session.query("INSERT INTO acked VALUES ($1)", [String(id)]) }
            }
            // The primary publishes its progress every loop; wait until the standby has it all.
            let caughtUp = try await eventually {
                try await lab.status().nodes.first { $0.name == "pg2" }?.lagBytes == 0
            }
            #expect(caughtUp)

            let killed = try await Lab.kill(dir: lab.dir, node: "pg1")
            #expect(killed.count == 2, "the postmaster and the region's agent")

            var firstWrite = false
            let promoted = try await eventually(within: .seconds(60)) {
                firstWrite = (try? await PGConnection.withSession(node: "writer", conninfo: writer, connectTimeout: .seconds(1)) { session in
                    _ = try await session.query("INSERT INTO acked VALUES (201)")
                    return true
                }) ?? false
                return firstWrite
            }
            #expect(promoted, "the standby must be promoted and take writes")

            let report = try await lab.status()
            #expect(report.nodes.first { $0.name == "pg2" }?.role == .primary)
            #expect(report.nodes.first { $0.name == "pg1" }?.role == .down)
            let count = try await PGConnection.withSession(node: "pg2", conninfo: pg2.conninfo) { session in
                try await session.query("SELECT count(*) AS n FROM acked").single().int("n")
            }
            #expect(count == 201, "every acknowledged write survived")

            #expect(try await coordinator.leader()?.node == "pg2")
            // The agent records the evidence right after the promotion it measures.
            _ = try await eventually(within: .seconds(10)) { try await !coordinator.history().isEmpty }
            let history = try await coordinator.history()
            let evidence = try #require(history.last)
            #expect(evidence.promoted == "pg2" && evidence.previousPrimary == "pg1")
            #expect(evidence.dataLostBytes == 0)
            #expect(evidence.events.map(\.name) == ["declared failed", "lock acquired", "promote issued", "writable"])
            let stateFile = "\(lab.dir)/agents/region2/failover-\(evidence.term).json"
            #expect(FileManager.default.fileExists(atPath: stateFile), "evidence is also kept as JSON by the agent")
        }
    }

    @Test func aStandbyNeverPromotesWhileThePrimaryHoldsTheLease() async throws {
        try await withLab { lab in
            // Stopping the standby's own database changes nothing for the leader.
            try await lab.node("pg2").stop()
            try await Task.sleep(for: .seconds(3))
            let coordinator = try EtcdCoordinator.forConfig(try lab.config())
            #expect(try await coordinator.leader()?.node == "pg1")
            #expect(try await coordinator.history().isEmpty)
            let members = try await coordinator.members()
            #expect(members.first { $0.name == "pg2" }?.role == .down)
            #expect(members.first { $0.name == "pg1" }?.role == .primary)
        }
    }
}
