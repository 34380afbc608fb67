import DRBackup
import DRCore
import DRLab
import DRPostgres
import DRSystem
import Foundation
import Testing

extension RealServers.BackupIntegrationTests {
    /// Asynchronous archiving (issue 27): with `archive_async`, a burst of segments is pushed
    /// by a background pusher with parallel uploads; PostgreSQL hears "archived" for each only
    /// once it is in the repository, and a restore to the end replays every one.
    @Test func aBurstOfSegmentsIsArchivedAsynchronouslyAndRestoresWhole() async throws {
        try await withLab { lab in
            let spool = "\(lab.dir)/spool"
            try FileManager.default.createDirectory(atPath: spool, withIntermediateDirectories: true)
            _ = try await CommandRunner.run(["chown", "postgres:postgres", spool])
            // Only the server's user may write the spool: its notes say what is archived.
            chmod(spool, 0o700)
            try String(contentsOfFile: lab.configFile, encoding: .utf8)
                .replacing(
                    "allowed_regions: [region2, region3]",
                    with: "allowed_regions: [region2, region3]\n  archive_async: true\n  archive_workers: 3\n  archive_spool: \(spool)"
                )
                .write(toFile: lab.configFile, atomically: true, encoding: .utf8)
            #expect(try await drctl(["backup", "run", "--kind", "base"], lab).status == 0)
            let pg1 = try lab.node("pg1")
            let last = try await PGConnection.withSession(node: "pg1", conninfo: pg1.conninfo) { session in
                _ = try await session.query("CREATE TABLE burst (v int)")
                for batch in 1...12 {
                    _ = try await session.query("INSERT INTO burst SELECT \(batch) FROM generate_series(1, 1000)")
                    _ = try await session.query("SELECT pg_switch_wal()")
                }
                return try await session.query("SELECT pg_walfile_name(pg_current_wal_lsn() - 1) AS w").single().string("w")
            }
            let archived = try await eventually(within: .seconds(60)) {
                try await PGConnection.withSession(node: "pg1", conninfo: pg1.conninfo) { session in
                    try await session.query("SELECT last_archived_wal >= '\(last)' AS done FROM pg_stat_archiver").single().optionalBool("done") ?? false
                }
            }
            #expect(archived, "pg1 archived through \(last)")
            let failed = try await PGConnection.withSession(node: "pg1", conninfo: pg1.conninfo) { session in
                try await session.query("SELECT failed_count AS f FROM pg_stat_archiver").single().int("f")
            }
            #expect(failed == 0, "no archive_command failed")
            #expect(FileManager.default.fileExists(atPath: "\(spool)/pusher.log"), "the background pusher ran")
            #expect(archive(lab).contains(last), "the last segment is in the repository")

            let dir = "\(lab.dir)/burst"
            let port = try PortAllocator.freePort()
            let restored = try await drctl(["restore", "--latest", "--kind", "base", "--to", dir, "--port", String(port)], lab)
            #expect(restored.status == 0, "\(restored.stdout)\(restored.stderr)")
            if restored.status == 0 {
                let rows = try await PGConnection.withSession(node: "burst", conninfo: "host=127.0.0.1 port=\(port) user=postgres dbname=postgres") { session in
                    try await session.query("SELECT count(*) AS n FROM burst").single().int("n")
                }
                #expect(rows == 12_000, "every segment of the burst replayed")
            }
            await stopInstance(dir)
        }
    }
}
