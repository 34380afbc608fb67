import DRCoordination
import DRLab
import DRPostgres
import DRSystem
import Foundation
import Testing

extension RealServers {
    /// The complete disaster: region1 and region2 (every database, every agent) are lost, and
    /// `drctl region activate region3` builds the primary in the cold region from the newest
    /// base backup and the WAL archive; region3's agent takes the key and points DNS.
    @Suite("region activate in the lab")
    struct RegionActivateIntegrationTests {
        /// The lab's config with a node in region3 (127.0.3.1, its own port and data
        /// directory) and an API for region3's agent.
        static func withColdNode(_ lab: LabState) throws -> (name: String, port: Int, dataDir: String) {
            let port = try PortAllocator.freePort(), api = try PortAllocator.freePort()
            let dataDir = "\(lab.dir)/region3/pg3/data"
            let text = try String(contentsOfFile: lab.configFile, encoding: .utf8)
            let cold = """
                    priority: 10
                    api: "127.0.3.1:\(api)"
                    nodes:
                      - name: pg3
                        conninfo: "host=127.0.3.1 port=\(port) user=postgres dbname=postgres"
                        data_dir: \(dataDir)
                        address: 127.0.3.1
                """
            let edited = text.replacing("    priority: 10\n    nodes: []", with: cold)
            #expect(edited != text, "the lab's region3 is written as expected")
            try edited.write(toFile: lab.configFile, atomically: true, encoding: .utf8)
            return ("pg3", port, dataDir)
        }

        @Test func theColdRegionBecomesThePrimaryAfterBothOthersAreLost() async throws {
            try await withLab { lab in
                let drctl = { (arguments: [String]) in
                    try await CommandRunner.run([try DrctlBinary.path()] + arguments + ["--config", lab.configFile], check: false)
                }
                let pg1 = try lab.node("pg1")
                try await PGConnection.withSession(node: "pg1", conninfo: pg1.conninfo) { session in
                    _ = try await session.query("CREATE TABLE orders AS SELECT g AS id FROM generate_series(1, 1000) g")
                }
                #expect(try await drctl(["backup", "run", "--kind", "base"]).status == 0)
                // Written after the base backup: only the WAL archive brings these back.
                let archived = try await PGConnection.withSession(node: "pg1", conninfo: pg1.conninfo) { session in
                    _ = try await session.query("INSERT INTO orders SELECT g FROM generate_series(1001, 1500) g")
                    return try await session.query("SELECT pg_walfile_name(pg_switch_wal()) AS w").single().string("w")
                }
                let shipped = try await eventually(within: .seconds(30)) {
                    try await PGConnection.withSession(node: "pg1", conninfo: pg1.conninfo) { session in
                        try await session.query("SELECT coalesce(last_archived_wal, '') >= $1 AS done FROM pg_stat_archiver", [archived]).single().bool("done")
                    }
                }
                #expect(shipped, "the segment holding rows 1001-1500 is archived")
                let cold = try Self.withColdNode(lab)

                let refused = try await drctl(["region", "activate", "region3", "--yes"])
                #expect(refused.status == 1 && refused.stderr.contains("pg1 accepts writes"), "\(refused.stdout)\(refused.stderr)")

                // Both regions with databases are lost: agents and postmasters killed.
                _ = try await Lab.kill(dir: lab.dir, node: "pg1")
                _ = try await Lab.kill(dir: lab.dir, node: "pg2")
                let agentLog = "\(lab.dir)/agents/region3/agent.log"
                try FileManager.default.createDirectory(atPath: "\(lab.dir)/agents/region3", withIntermediateDirectories: true)
                let agent = try ProcessControl.spawnDaemon(
                    [
                        try DrctlBinary.path(), "agent", "--region", "region3", "--config", lab.configFile, "--state-dir", "\(lab.dir)/agents/region3",
                        "--source-address", "127.0.3.1",
                    ], logFile: agentLog)
                defer {
                    kill(agent, SIGKILL)
                    let pgctl = "/usr/lib/postgresql/15/bin/pg_ctl"
                    _ = Task { try? await CommandRunner.run([pgctl, "-D", cold.dataDir, "-m", "immediate", "stop"], as: .forPostgres, check: false) }
                }
                let etcd = try EtcdCoordinator.forConfig(try lab.config())
                #expect(try await eventually(within: .seconds(15)) { try await etcd.leader() == nil }, "the lost primary's key expires")

                let activated = try await drctl(["region", "activate", "region3", "--yes", "--wait", "60s"])
                let log = (try? String(contentsOfFile: agentLog, encoding: .utf8)) ?? ""
                #expect(activated.status == 0, "\(activated.stdout)\(activated.stderr)\(log.suffix(2000))")
                #expect(activated.stdout.contains("pg3 holds the leader key") && activated.stdout.contains("DNS points at pg3"), "\(activated.stdout)")
                let rows = try await PGConnection.withSession(node: "pg3", conninfo: "host=127.0.3.1 port=\(cold.port) user=postgres dbname=postgres") {
                    session in
                    try await session.query("SELECT count(*) AS n FROM orders").single().int("n")
                }
                #expect(rows == 1500, "the base backup and the archived WAL after it")
                let marker = try await PGConnection.withSession(node: "pg3", conninfo: "host=127.0.3.1 port=\(cold.port) user=postgres dbname=postgres") {
                    session in
                    try await session.query("SELECT coalesce(current_setting('drctl.forced_promotion', true), '') AS m").single().string("m")
                }
                #expect(marker.isEmpty, "leading under a term, the agent cleared the activation's mark")
                #expect(try await drctl(["dns", "status"]).status == 0, "the managed record points at pg3")
                let history = try await drctl(["history", "--json"])
                #expect(history.stdout.contains("region region3 activated from base backup"), "\(history.stdout)")
                let times = activated.stdout.split(separator: "\n").filter { $0.hasPrefix("pg3 ") || $0.hasPrefix("DNS ") }
                print("region activate (lab, loopback): \(times.joined(separator: "; "))")
            }
        }
    }
}
