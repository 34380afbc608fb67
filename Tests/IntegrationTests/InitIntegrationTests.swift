import DRLab
import DRSystem
import Foundation
import Testing

extension RealServers {
    /// `drctl init` adopting the lab's running primary and standby: the written configuration
    /// passes `config check` with the lab's topology, nothing on the servers changed, a
    /// primary given as a standby is refused, and an existing file is never overwritten.
    @Suite("drctl init against a running cluster")
    struct InitIntegrationTests {
        @Test func adoptsTheLabWithoutChangingIt() async throws {
            try await withLab(agents: false) { lab in
                let binary = try DrctlBinary.path()
                let (pg1, pg2) = (try lab.node("pg1"), try lab.node("pg2"))
                func conninfo(_ server: PostgresServer) -> String { "host=\(server.host) port=\(server.port) user=postgres dbname=postgres" }
                func fingerprint() async throws -> [String] {
                    var lines: [String] = []
                    for server in [pg1, pg2] {
                        let session = try await server.connect()
                        let slots = try await session.query("SELECT coalesce(string_agg(slot_name, ','), '') AS s FROM pg_replication_slots").single().string("s")
                        await session.close()
                        let auto = (try? String(contentsOfFile: "\(server.dataDir)/postgresql.auto.conf", encoding: .utf8)) ?? ""
                        lines += [slots, auto]
                    }
                    return lines
                }
                let before = try await fingerprint()
                let output = "\(lab.dir)/adopted.yaml"
                let run = try await CommandRunner.run(
                    [binary, "init", "--cluster", "adopted", "--primary", conninfo(pg1), "--primary-name", "pg1", "--standby", conninfo(pg2), "--output", output],
                    check: false)
                #expect(run.status == 0, "\(run.stdout)\(run.stderr)")
                let check = try await CommandRunner.run([binary, "config", "check", "--config", output], check: false)
                #expect(check.status == 0 && check.stdout.contains("pg1") && check.stdout.contains("pg2"), "\(check.stdout)\(check.stderr)")
                let text = try String(contentsOfFile: output, encoding: .utf8)
                #expect(text.contains("data_dir: \(pg2.dataDir)") && text.contains("streams from \(pg1.host), slot pg2"), "\(text)")
                #expect(try await fingerprint() == before, "init changed nothing on the servers")

                let again = try await CommandRunner.run(
                    [binary, "init", "--cluster", "adopted", "--primary", conninfo(pg1), "--standby", conninfo(pg2), "--output", output], check: false)
                #expect(again.status == 2 && again.stderr.contains("never overwrites"), "\(again.stderr)")
                let wrong = try await CommandRunner.run([binary, "init", "--cluster", "adopted", "--primary", conninfo(pg1), "--standby", conninfo(pg1)], check: false)
                #expect(wrong.status == 2 && wrong.stderr.contains("not in recovery"), "\(wrong.stderr)")
            }
        }
    }
}
