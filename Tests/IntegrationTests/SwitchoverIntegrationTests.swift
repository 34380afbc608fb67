import DRCoordination
import DRCore
import DRLab
import DRPostgres
import DRSystem
import Foundation
import Testing

extension RealServers {
    @Suite("switchover and rejoin in the lab")
    struct SwitchoverIntegrationTests {
        func drctl(_ arguments: [String]) async throws -> CommandRunner.Output {
            try await CommandRunner.run([try DrctlBinary.path()] + arguments, check: false)
        }

        @Test func aSwitchoverUnderLoadLosesNoAcknowledgedWrite() async throws {
            try await withLab { lab in
                let etcd = try EtcdCoordinator.forConfig(try lab.config())
                let pg1 = try lab.node("pg1"), pg2 = try lab.node("pg2")
                let writer = "host=\(pg1.host),\(pg2.host) port=\(pg1.port),\(pg2.port) user=postgres dbname=postgres target_session_attrs=read-write"
                try await PGConnection.withSession(node: "writer", conninfo: writer) { _ = try await $0.query("CREATE TABLE acked (id int PRIMARY KEY)") }
                let caughtUp = try await eventually { try await lab.status().nodes.first { $0.name == "pg2" }?.lagBytes == 0 }
                #expect(caughtUp)

                // Refusals change nothing; a dry run changes nothing.
                #expect(try await drctl(["pause", "--dry-run", "--config", lab.configFile]).status == 0)
                #expect(try await !etcd.isPaused())
                #expect(try await drctl(["pause", "--yes", "--config", lab.configFile]).status == 0)
                let paused = try await drctl(["switchover", "--to", "pg2", "--yes", "--config", lab.configFile])
                #expect(paused.status == 1 && paused.stderr.contains("paused"), "\(paused.stderr)")
                #expect(try await drctl(["resume", "--yes", "--config", lab.configFile]).status == 0)
                #expect(try await drctl(["switchover", "--to", "pg1", "--yes", "--config", lab.configFile]).status == 1, "already the primary")
                #expect(try await drctl(["switchover", "--to", "pg2", "--dry-run", "--config", lab.configFile]).status == 0)
                let pending = try await etcd.switchoverIntent(), stillPaused = try await etcd.isPaused()
                #expect(pending == nil && !stillPaused)

                let log = AcknowledgedWrites()  // by a client that, like an application, finds whichever node accepts writes
                let load = Task {
                    var id: Int64 = 0
                    while !Task.isCancelled {
                        id += 1
                        let server = try? await PGConnection.withSession(node: "writer", conninfo: writer, connectTimeout: .seconds(1)) { session in
                            try await session.query("INSERT INTO acked VALUES ($1) RETURNING host(inet_server_addr()) AS s", [String(id)]).single().string("s")
                        }
                        if let server { log.add(id, server: server) }
                        try? await Task.sleep(for: .milliseconds(20))
                    }
                }
                try await Task.sleep(for: .seconds(2))
                let requested = try await drctl(["switchover", "--to", "pg2", "--yes", "--config", lab.configFile])
                #expect(requested.status == 0, "\(requested.stdout)\(requested.stderr)")
                let switched = try await eventually(within: .seconds(30)) { try await Self.leads("pg2", host: pg2.host, etcd: etcd, log: log) }
                #expect(switched, "pg2 leads and takes the writes")
                let rejoined = try await eventually(within: .seconds(30)) { try await lab.status().nodes.first { $0.name == "pg1" }?.role == .standby }
                #expect(rejoined, "the old primary comes back as a standby by itself")
                try await Task.sleep(for: .seconds(1))
                load.cancel()
                _ = await load.value

                let acked = log.ids
                let stored = try await PGConnection.withSession(node: "pg2", conninfo: pg2.conninfo) { session in
                    Set(try await session.query("SELECT id FROM acked").rows.map { Int64(try $0.int("id")) })
                }
                #expect(acked.allSatisfy { stored.contains($0) }, "every acknowledged write is on the new primary")
                let evidence = try #require(try await etcd.history().last)
                #expect(evidence.reason.contains("switchover from pg1 to pg2") && evidence.dataLostBytes == 0)
                #expect(try await etcd.switchoverIntent() == nil, "the intent is consumed")
                print("switchover write gap: \(log.longestGap) (\(acked.count) acknowledged writes)")
            }
        }

        /// `node` holds the key and the client's last acknowledged write came from `host`.
        static func leads(_ node: String, host: String, etcd: EtcdCoordinator, log: AcknowledgedWrites) async throws -> Bool {
            let last = log.all.last?.server
            return try await etcd.leader()?.node == node && last == host
        }

        @Test func rejoinBringsAFencedOldPrimaryBackAfterAFailover() async throws {
            try await withLab { lab in
                let etcd = try EtcdCoordinator.forConfig(try lab.config())
                kill(try #require(try lab.node("pg1").pid), SIGKILL)
                let failedOver = try await eventually(within: .seconds(20)) { try await etcd.leader()?.node == "pg2" }
                let fenced = try await eventually(within: .seconds(10)) { try await etcd.members().first { $0.name == "pg1" }?.role == .fenced }
                #expect(failedOver && fenced)

                let refused = try await drctl(["rejoin", "pg2", "--yes", "--config", lab.configFile])
                #expect(refused.status == 1 && refused.stderr.contains("accepts writes"), "\(refused.stdout)\(refused.stderr)")
                let plan = try await drctl(["rejoin", "pg1", "--dry-run", "--config", lab.configFile])
                #expect(plan.status == 0 && plan.stdout.contains("dry run"))
                try await Task.sleep(for: .seconds(2))
                #expect(try await lab.status().nodes.first { $0.name == "pg1" }?.role != .standby, "a dry run changes nothing")

                let rejoin = try await drctl(["rejoin", "pg1", "--yes", "--config", lab.configFile])
                #expect(rejoin.status == 0, "\(rejoin.stdout)\(rejoin.stderr)")
                let back = try await eventually(within: .seconds(30)) { try await lab.status().nodes.first { $0.name == "pg1" }?.role == .standby }
                #expect(back, "pg1 streams from pg2 again")
                let consumed = try await eventually(within: .seconds(10)) { try await !etcd.rejoinRequested(node: "pg1") }
                #expect(consumed, "the intent is consumed")
            }
        }
    }
}
