import DRBackup
import DRCore
import DRLab
import DRPostgres
import DRSystem
import Foundation
import Testing

extension RealServers {
    @Suite("backups, WAL archive and restore in the lab")
    struct BackupIntegrationTests {
        func drctl(_ arguments: [String], _ lab: LabState) async throws -> CommandRunner.Output {
            try await CommandRunner.run([try DrctlBinary.path()] + arguments + ["--config", lab.configFile], check: false)
        }

        func stopInstance(_ dir: String) async {
            _ = try? await CommandRunner.run(["/usr/lib/postgresql/15/bin/pg_ctl", "-D", dir, "-m", "immediate", "stop"], as: .forPostgres, check: false)
            try? FileManager.default.removeItem(atPath: dir)
        }

        @Test func aTamperedBackupFailsVerificationAndIsNeverRestored() async throws {
            try await withLab(agents: false) { lab in
                let pg1 = try lab.node("pg1")
                try await PGConnection.withSession(node: "pg1", conninfo: pg1.conninfo) { session in
                    _ = try await session.query("CREATE TABLE kept AS SELECT generate_series(1, 5000) AS id")
                }
                _ = try await eventually { try await lab.status().nodes.first { $0.name == "pg2" }?.lagBytes == 0 }
                let taken = try await drctl(["backup", "run", "--json"], lab)
                #expect(taken.status == 0, "\(taken.stderr)")
                let manifest = try #require(try JSONDecoder().decode([BackupManifest].self, from: Data(taken.stdout.utf8)).first)
                #expect(manifest.sourceNode == "pg2", "taken from the streaming standby")
                #expect(try await drctl(["backup", "verify", manifest.id], lab).status == 0)

                let restoredOK = "\(lab.dir)/restored-ok"
                let good = try await drctl(["restore", "--to", restoredOK, "--latest", "--port", String(try PortAllocator.freePort())], lab)
                #expect(good.status == 0 && good.stdout.contains("✔ SELECT NOT pg_is_in_recovery()"), "\(good.stdout)\(good.stderr)")
                await stopInstance(restoredOK)
                // backup.validation decides whether a restore passed.
                let strict = "\(lab.dir)/strict.yaml"
                try String(contentsOfFile: lab.configFile, encoding: .utf8).replacing("expect: t}", with: "expect: f}")
                    .write(toFile: strict, atomically: true, encoding: .utf8)
                let restoredStrict = "\(lab.dir)/restored-strict"
                let failing = try await CommandRunner.run(
                    [
                        try DrctlBinary.path(), "restore", "--to", restoredStrict, "--latest", "--port",
                        String(try PortAllocator.freePort()), "--config", strict,
                    ], check: false)
                #expect(failing.status == 1 && failing.stderr.contains("backup.validation"), "\(failing.stdout)\(failing.stderr)")
                await stopInstance(restoredStrict)

                // One byte flipped in the middle of the dump.
                let file = "\(lab.backupDir)/lab/\(manifest.id)/\(manifest.path)"
                let handle = try #require(FileHandle(forUpdatingAtPath: file))
                try handle.seek(toOffset: manifest.size / 2)
                let byte = try #require(try handle.read(upToCount: 1)?.first)
                try handle.seek(toOffset: manifest.size / 2)
                try handle.write(contentsOf: Data([byte ^ 0xff]))
                try handle.close()

                let verify = try await drctl(["backup", "verify"], lab)
                #expect(verify.status == 1 && verify.stdout.contains(manifest.id) && verify.stdout.contains("damaged"), "\(verify.stdout)\(verify.stderr)")
                let target = "\(lab.dir)/restored-bad"
                let refused = try await drctl(["restore", "--to", target, "--latest", "--port", String(try PortAllocator.freePort())], lab)
                #expect(refused.status == 1 && refused.stderr.contains("damaged"), "\(refused.stderr)")
                #expect(!FileManager.default.fileExists(atPath: target), "refused before anything was written")
            }
        }

        @Test func pointInTimeRestoreBetweenTwoBatchesRestoresExactlyTheFirst() async throws {
            try await withLab { lab in
                let pg1 = try lab.node("pg1")
                let base = try await drctl(["backup", "run", "--kind", "base"], lab)
                #expect(base.status == 0, "\(base.stderr)")
                let target = try await PGConnection.withSession(node: "pg1", conninfo: pg1.conninfo) { session in
                    _ = try await session.query("CREATE TABLE batches (id int PRIMARY KEY, batch int)")
                    _ = try await session.query("INSERT INTO batches SELECT g, 1 FROM generate_series(1, 100) g")
                    let between = try await session.query("SELECT now()::text AS t").single().string("t")
                    try await Task.sleep(for: .milliseconds(1100))
                    _ = try await session.query("INSERT INTO batches SELECT g, 2 FROM generate_series(101, 200) g")
                    _ = try await session.query("SELECT pg_switch_wal()")
                    return between
                }
                // Archived once pg_stat_archiver reports the switched segment (or a later one).
                let archived = try await eventually(within: .seconds(30)) {
                    try await PGConnection.withSession(node: "pg1", conninfo: pg1.conninfo) { session in
                        try await session.query(
                            """
                            SELECT last_archived_wal >= pg_walfile_name(pg_current_wal_lsn() - 1) AS done FROM pg_stat_archiver
                            """
                        ).single().optionalBool("done") ?? false
                    }
                }
                #expect(archived)
                let dir = "\(lab.dir)/pitr"
                let port = try PortAllocator.freePort()
                let restored = try await drctl(["restore", "--to", dir, "--target-time", target, "--port", String(port)], lab)
                #expect(restored.status == 0, "\(restored.stdout)\(restored.stderr)")
                let rows = try await PGConnection.withSession(node: "restored", conninfo: "host=127.0.0.1 port=\(port) user=postgres dbname=postgres") { session in
                    try await session.query("SELECT count(*) AS n, max(batch) AS b FROM batches").single()
                }
                #expect(try rows.int("n") == 100 && rows.int("b") == 1, "exactly the first batch")
                await stopInstance(dir)
            }
        }

        @Test func residencyRetentionAndTheArchivesRules() async throws {
            try await withLab(agents: false) { lab in
                // A repository in a region the cluster may not store backups in: refused, nothing written.
                let text = try String(contentsOfFile: lab.configFile, encoding: .utf8)
                let outside = "\(lab.dir)/outside.yaml"
                try text.replacing("repository_region: region3", with: "repository_region: region1").write(toFile: outside, atomically: true, encoding: .utf8)
                let refused = try await CommandRunner.run([try DrctlBinary.path(), "backup", "run", "--config", outside], check: false)
                #expect(refused.status == 2 && refused.stderr.contains("data residency"), "\(refused.stderr)")
                #expect(((try? FileManager.default.contentsOfDirectory(atPath: "\(lab.backupDir)/lab")) ?? []).filter { $0 != "wal" }.isEmpty)

                // Retention: keep the newest only.
                for _ in 1...3 { #expect(try await drctl(["backup", "run"], lab).status == 0) }
                let strict = "\(lab.dir)/strict.yaml"
                try text.replacing("allowed_regions: [region2, region3]", with: "allowed_regions: [region2, region3]\n  retention: {keep_last: 1, daily: 0, weekly: 0, monthly: 0}")
                    .write(toFile: strict, atomically: true, encoding: .utf8)
                let before = try await drctl(["backup", "list", "--json"], lab).stdout
                let dry = try await CommandRunner.run([try DrctlBinary.path(), "backup", "prune", "--dry-run", "--config", strict], check: false)
                #expect(dry.status == 0 && dry.stdout.components(separatedBy: "remove ").count == 3, "\(dry.stdout)\(dry.stderr)")
                #expect(try await drctl(["backup", "list", "--json"], lab).stdout == before, "a dry run removes nothing")
                #expect(try await CommandRunner.run([try DrctlBinary.path(), "backup", "prune", "--yes", "--config", strict], check: false).status == 0)
                let left = try JSONDecoder().decode([BackupManifest].self, from: Data(try await drctl(["backup", "list", "--json"], lab).stdout.utf8))
                #expect(left.count == 1)

                // The archive: the same segment twice is fine, different content under its name is not.
                let segment = "\(lab.dir)/segment"
                try Data(repeating: 7, count: 1024).write(to: URL(fileURLWithPath: segment))
                #expect(try await drctl(["wal-push", segment, "0000000900000000000000AA"], lab).status == 0)
                #expect(try await drctl(["wal-push", segment, "0000000900000000000000AA"], lab).status == 0, "idempotent")
                try Data(repeating: 8, count: 1024).write(to: URL(fileURLWithPath: segment))
                let clash = try await drctl(["wal-push", segment, "0000000900000000000000AA"], lab)
                #expect(clash.status == 1 && clash.stderr.contains("refusing to overwrite"), "\(clash.stderr)")
                #expect(try await drctl(["wal-fetch", "0000000900000000000000AA", "\(lab.dir)/fetched"], lab).status == 0)
                #expect(FileManager.default.contents(atPath: "\(lab.dir)/fetched") == Data(repeating: 7, count: 1024))
                #expect(try await drctl(["wal-fetch", "0000000900000000000000AB", "\(lab.dir)/none"], lab).status == 1, "not archived: recovery ends")
            }
        }
    }
}
