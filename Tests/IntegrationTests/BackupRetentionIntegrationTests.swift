import DRBackup
import DRCore
import DRLab
import DRPostgres
import DRSystem
import Foundation
import Testing

extension RealServers.BackupIntegrationTests {
    /// Switches `count` WAL segments on pg1 and waits until the last is archived.
    func switchAndArchive(_ lab: LabState, count: Int) async throws {
        let pg1 = try lab.node("pg1")
        try await PGConnection.withSession(node: "pg1", conninfo: pg1.conninfo) { session in
            _ = try await session.query("CREATE TABLE IF NOT EXISTS churn (v int)")
            for _ in 0..<count {
                _ = try await session.query("INSERT INTO churn VALUES (1)")
                _ = try await session.query("SELECT pg_switch_wal()")
            }
        }
        let archived = try await eventually(within: .seconds(30)) {
            try await PGConnection.withSession(node: "pg1", conninfo: pg1.conninfo) { session in
                try await session.query("SELECT last_archived_wal >= pg_walfile_name(pg_current_wal_lsn() - 1) AS done FROM pg_stat_archiver")
                    .single().optionalBool("done") ?? false
            }
        }
        #expect(archived, "pg1 archived its switched segments")
    }

    /// The archive's WAL file names (stored compressed, as `NAME.zst`).
    func archive(_ lab: LabState) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: "\(lab.backupDir)/lab/wal")) ?? []).filter { !$0.hasSuffix(".sha256") }
            .map { $0.hasSuffix(".zst") ? String($0.dropLast(4)) : $0 }.sorted()
    }

    /// Issue 27's schedule: a base backup, WAL, another base backup, dumps, one of them
    /// found damaged. With one of each kept, the newest base backup and the WAL from its
    /// start stay (point-in-time restore still works), the older base backup and the WAL
    /// only it needed go, dumps are counted apart, and the damaged dump stays until a valid
    /// one is newer.
    @Test func retentionKeepsWhatPointInTimeRestoreNeedsAndExpiresTheRest() async throws {
        try await withLab { lab in
            #expect(try await drctl(["backup", "run", "--kind", "base"], lab).status == 0)
            try await switchAndArchive(lab, count: 3)
            let second = try await drctl(["backup", "run", "--kind", "base", "--json"], lab)
            #expect(second.status == 0, "\(second.stderr)")
            let kept = try #require(try JSONDecoder().decode([BackupManifest].self, from: Data(second.stdout.utf8)).first)
            // Compressed by default, and readable by zstd's own tool, independently of drctl.
            #expect(kept.compression == "zstd" && kept.path == "base.tar.zst")
            let stored = "\(lab.backupDir)/lab/\(kept.id)/\(kept.path)"
            let listing = try await CommandRunner.run(["sh", "-c", "zstd -t \"$0\" && zstd -dc \"$0\" | tar -tf -", stored], check: false)
            #expect(listing.status == 0 && listing.stdout.contains("backup_label") && listing.stdout.contains("global/pg_control"), "\(listing.stderr)")
            var dumps: [BackupManifest] = []
            for _ in 0..<3 {
                let dump = try await drctl(["backup", "run", "--json"], lab)
                dumps += try JSONDecoder().decode([BackupManifest].self, from: Data(dump.stdout.utf8))
                try await Task.sleep(for: .seconds(1.1))  // backup IDs are to the second
            }
            try await switchAndArchive(lab, count: 2)
            // The newest dump damaged, and found so by verify.
            let file = "\(lab.backupDir)/lab/\(dumps[2].id)/\(dumps[2].path)"
            let handle = try #require(FileHandle(forUpdatingAtPath: file))
            try handle.seek(toOffset: dumps[2].size / 2)
            let byte = try #require(try handle.read(upToCount: 1)?.first)
            try handle.seek(toOffset: dumps[2].size / 2)
            try handle.write(contentsOf: Data([byte ^ 0xff]))
            try handle.close()
            #expect(try await drctl(["backup", "verify", dumps[2].id], lab).status == 1)

            let strict = "\(lab.dir)/keep-one.yaml"
            try String(contentsOfFile: lab.configFile, encoding: .utf8)
                .replacing("allowed_regions: [region2, region3]", with: "allowed_regions: [region2, region3]\n  retention: {keep_last: 1, daily: 0, weekly: 0, monthly: 0}")
                .write(toFile: strict, atomically: true, encoding: .utf8)
            let startSegment = try #require(kept.startLSN).value >> 24
            let before = archive(lab)
            let unneeded = before.filter { name in RepositoryRetention.segmentNumber(name).map { $0 < startSegment } ?? false }
            #expect(!unneeded.isEmpty, "WAL from before the kept base backup: \(before)")
            let dry = try await CommandRunner.run([try DrctlBinary.path(), "backup", "prune", "--dry-run", "--config", strict], check: false)
            #expect(dry.status == 0 && dry.stdout.contains("expire \(unneeded.count) WAL file(s)"), "\(dry.stdout)\(dry.stderr)")
            #expect(archive(lab) == before, "a dry run expires nothing")
            let pruned = try await CommandRunner.run([try DrctlBinary.path(), "backup", "prune", "--yes", "--config", strict], check: false)
            #expect(pruned.status == 0, "\(pruned.stdout)\(pruned.stderr)")

            let left = try JSONDecoder().decode([BackupManifest].self, from: Data(try await drctl(["backup", "list", "--json"], lab).stdout.utf8))
            #expect(Set(left.map(\.id)) == [kept.id, dumps[1].id, dumps[2].id], "\(left.map(\.id))")
            #expect(left.first { $0.id == dumps[2].id }?.damage?.contains("damaged") == true)
            #expect(archive(lab) == before.filter { !unneeded.contains($0) }, "exactly the WAL no kept base backup needs went")
            #expect(archive(lab).contains { $0.hasSuffix(".history") } == before.contains { $0.hasSuffix(".history") })

            let dir = "\(lab.dir)/after-prune"
            let port = try PortAllocator.freePort()
            let restored = try await drctl(["restore", "--latest", "--kind", "base", "--to", dir, "--port", String(port)], lab)
            #expect(restored.status == 0, "point-in-time restore still works: \(restored.stdout)\(restored.stderr)")
            await stopInstance(dir)
        }
    }

    /// PostgreSQL takes a failed fetch for the archive's end: a hole in the archive (or a
    /// fetch that failed) must not promote a shorter copy in silence.
    @Test func aRestoreThatStopsShortOfTheArchiveFailsLoudly() async throws {
        try await withLab { lab in
            #expect(try await drctl(["backup", "run", "--kind", "base"], lab).status == 0)
            try await switchAndArchive(lab, count: 4)
            let segments = archive(lab).filter { !$0.contains(".") }
            let hole = try #require(segments.dropLast().last, "\(segments)")
            #expect(try await drctl(["backup", "verify", "--archive"], lab).status == 0, "intact before the hole")
            try FileManager.default.removeItem(atPath: "\(lab.backupDir)/lab/wal/\(hole).zst")
            let verified = try await drctl(["backup", "verify", "--archive"], lab)
            #expect(verified.status == 1 && verified.stdout.contains("a restore stops here: timeline 1: \(hole) is missing"), "\(verified.stdout)\(verified.stderr)")
            let dir = "\(lab.dir)/short"
            let short = try await drctl(["restore", "--latest", "--kind", "base", "--to", dir, "--port", String(try PortAllocator.freePort())], lab)
            #expect(short.status == 1 && short.stderr.contains("the restore is short"), "\(short.stdout)\(short.stderr)")
            #expect(short.stderr.contains(try #require(segments.last)), "names the archive's end")
            await stopInstance(dir)
        }
    }

    /// A fetch that fails for any reason but "not archived" (here a damaged segment) stops
    /// recovery instead of ending it: nothing is promoted, and once the repository is mended
    /// the same data directory, started again, recovers to the archive's end. (Before, it
    /// exited 1: PostgreSQL ended recovery there and promoted a short copy on a new timeline.)
    @Test func aFailedFetchStopsRecoveryAndAStartAfterTheRepairGoesOn() async throws {
        try await withLab { lab in
            #expect(try await drctl(["backup", "run", "--kind", "base"], lab).status == 0)
            try await switchAndArchive(lab, count: 4)
            let segments = archive(lab).filter { !$0.contains(".") }
            let damaged = try #require(segments.dropLast().last, "\(segments)")
            let file = "\(lab.backupDir)/lab/wal/\(damaged).zst"
            let intact = try #require(FileManager.default.contents(atPath: file))
            var flipped = intact
            flipped[flipped.count / 2] ^= 0xFF
            try flipped.write(to: URL(fileURLWithPath: file))
            let dir = "\(lab.dir)/stopped"
            let port = try PortAllocator.freePort()
            let stopped = try await drctl(["restore", "--latest", "--kind", "base", "--to", dir, "--port", String(port)], lab)
            #expect(stopped.status == 1 && stopped.stderr.contains("recovery stopped") && stopped.stderr.contains(damaged), "\(stopped.stdout)\(stopped.stderr)")
            let walFiles = (try? FileManager.default.contentsOfDirectory(atPath: "\(dir)/pg_wal")) ?? []
            #expect(!walFiles.contains { $0.hasSuffix(".history") }, "nothing promoted: no new timeline \(walFiles)")

            try intact.write(to: URL(fileURLWithPath: file))
            _ = try await CommandRunner.run(
                ["/usr/lib/postgresql/15/bin/pg_ctl", "-D", dir, "-l", "\(dir)/restore.log", "-w", "start"], as: .forPostgres, check: false)
            let conninfo = "host=127.0.0.1 port=\(port) user=postgres dbname=postgres"
            let promoted = try await eventually(within: .seconds(60)) {
                (try? await PGConnection.withSession(node: "restored", conninfo: conninfo, connectTimeout: .seconds(1)) { session in
                    try await !session.query("SELECT pg_is_in_recovery() AS r").single().bool("r")
                }) ?? false
            }
            #expect(promoted)
            let rows = try await PGConnection.withSession(node: "restored", conninfo: conninfo) { session in
                try await session.query("SELECT count(*) AS n FROM churn").single().int("n")
            }
            #expect(rows == 4, "every archived insert, to the archive's end")
            await stopInstance(dir)
        }
    }
}
