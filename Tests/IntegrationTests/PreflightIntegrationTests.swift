import DRHTTP
import DRLab
import DRSystem
import Foundation
import Testing

extension RealServers {
    /// `drctl preflight` against the lab: nothing blocking on a healthy lab, then each
    /// precondition broken the way operators break them — the archive stopped, the archived
    /// WAL gone from the repository, the DNS key revoked, pg_hba.conf's replication lines
    /// removed — and each one found, on its node.
    @Suite("preflight in the lab")
    struct PreflightIntegrationTests {
        struct Finding: Decodable {
            var check: String
            var node: String?
            var severity: String
        }

        @Test func eachBrokenPreconditionIsFound() async throws {
            try await withLab { lab in
                let binary = try DrctlBinary.path()
                func preflight() async throws -> (status: Int32, findings: [Finding]) {
                    let run = try await CommandRunner.run([binary, "preflight", "--json", "--config", lab.configFile], check: false)
                    return (run.status, try JSONDecoder().decode([Finding].self, from: Data(run.stdout.utf8)))
                }
                // A segment in the archive, so the fetch back from the repository is tried.
                let pg1 = try lab.node("pg1")
                let session = try await pg1.connect()
                _ = try await session.query("CREATE TABLE preflight_probe (i int)")
                _ = try await session.query("SELECT pg_switch_wal()")
                let archived = try await eventually(within: .seconds(30)) {
                    try await session.query("SELECT last_archived_wal IS NOT NULL AS done FROM pg_stat_archiver").single().bool("done")
                }
                #expect(archived)
                let healthy = try await preflight()
                #expect(healthy.status == 0 && !healthy.findings.contains { $0.severity == "blocking" }, "\(healthy.findings)")

                // Each agent ran it at start, from its host: in /status, the metrics and `drctl status`.
                let api = try #require(try Lab.status(dir: lab.dir).agents.first { $0.region == "region1" }?.api)
                let published = try await eventually(within: .seconds(30)) {
                    let status = try? await HTTPClient().send(HTTPRequest(url: api + "/status"))
                    let view = status.flatMap { try? JSONSerialization.jsonObject(with: Data($0.body)) as? [String: Any] }
                    // served_at_ms: the wall clock preflight compares its own with (clock skew).
                    return (view?["preflight"] as? [String: Any])?["region"] as? String == "region1" && view?["served_at_ms"] is Int
                }
                #expect(published, "region1's agent publishes its preflight in /status")
                let metrics = String(decoding: try await HTTPClient().send(HTTPRequest(url: api + "/metrics")).body, as: UTF8.self)
                #expect(metrics.contains("drctl_preflight_findings{cluster=\"lab\",severity=\"blocking\"} 0"), "\(metrics.split(separator: "\n").filter { $0.contains("preflight") })")
                let status = try await CommandRunner.run([binary, "status", "--config", lab.configFile], check: false)
                #expect(status.stdout.contains("region1: 0 blocking") && status.stdout.contains("region2: 0 blocking"), "\(status.stdout)")

                _ = try await session.query("ALTER SYSTEM SET archive_command = 'false'")
                _ = try await session.query("SELECT pg_reload_conf()")
                try "revoked".write(toFile: lab.dns.apiKeyFile, atomically: true, encoding: .utf8)
                try FileManager.default.moveItem(atPath: "\(lab.backupDir)/lab/wal", toPath: "\(lab.backupDir)/lab/wal.moved")
                let hba = "\(pg1.dataDir)/pg_hba.conf"
                let lines = try String(contentsOfFile: hba, encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: false)
                try lines.filter { $0.firstMatch(of: /^host\s+replication/) == nil }.joined(separator: "\n").write(toFile: hba, atomically: true, encoding: .utf8)
                _ = try await session.query("SELECT pg_reload_conf()")
                await session.close()

                let broken = try await preflight()
                #expect(broken.status == 1)
                let blocking = Set(broken.findings.filter { $0.severity == "blocking" }.map { "\($0.check) \($0.node ?? "cluster")" })
                #expect(blocking == ["archive pg1", "archive_fetch cluster", "dns cluster", "replication_access pg1"], "\(broken.findings)")
            }
        }

        /// A node without data checksums and with wal_log_hints off cannot be rewound: preflight
        /// says so (a warning without auto_rejoin), and stops once wal_log_hints is on again.
        @Test func aNodeThatCannotBeRewoundIsFound() async throws {
            try await withLab(agents: false) { lab in
                let binary = try DrctlBinary.path()
                let pg2 = try lab.node("pg2")
                let bin = try PostgresBinaries.directory()
                func rewindFindings() async throws -> [Finding] {
                    let run = try await CommandRunner.run([binary, "preflight", "--json", "--config", lab.configFile], check: false)
                    return try JSONDecoder().decode([Finding].self, from: Data(run.stdout.utf8)).filter { $0.check == "rewind" }
                }
                #expect(try await rewindFindings().isEmpty, "the lab's servers have data checksums and wal_log_hints")
                func restart(_ setting: String) async throws {
                    let session = try await pg2.connect()
                    _ = try await session.query(setting)
                    await session.close()
                    try await pg2.stop()
                }

                try await restart("ALTER SYSTEM SET wal_log_hints = off")
                try await CommandRunner.run(["\(bin)/pg_checksums", "--disable", "-D", pg2.dataDir], as: .forPostgres)
                try await pg2.start()
                let found = try await rewindFindings()
                #expect(found.map { "\($0.severity) \($0.node ?? "")" } == ["warning pg2"], "\(found)")

                try await restart("ALTER SYSTEM RESET wal_log_hints")
                try await pg2.start()
                #expect(try await rewindFindings().isEmpty, "wal_log_hints on: pg_rewind can run")
            }
        }
    }
}
