import DRBackup
import DRCore
import DRLab
import DRPostgres
import DRSystem
import Foundation
import Testing

extension RealServers {
    /// Client-side encryption end to end (issue 27): with `backup.encryption` set midway,
    /// WAL, base backups and dumps land sealed; verify, restore to the end (across the plain
    /// WAL from before and the sealed WAL after) and a dump's restore work; the independent
    /// reader and GNU tar read the base backup without drctl; without the key nothing is
    /// restored and the error names the key it needs; the key appears in no output.
    @Suite("encrypted backups in the lab")
    struct EncryptedBackupTests {
        func drctl(_ arguments: [String], config: String) async throws -> CommandRunner.Output {
            try await CommandRunner.run([try DrctlBinary.path()] + arguments + ["--config", config], check: false)
        }

        @Test func sealedBackupsAndWALRestoreAndReadWithoutDrctl() async throws {
            try await withLab { lab in
                let pg1 = try lab.node("pg1")
                let plainConfig = "\(lab.dir)/plain.yaml"
                let original = try String(contentsOfFile: lab.configFile, encoding: .utf8)
                try original.write(toFile: plainConfig, atomically: true, encoding: .utf8)
                try await PGConnection.withSession(node: "pg1", conninfo: pg1.conninfo) { session in
                    _ = try await session.query("CREATE TABLE secrets (id int PRIMARY KEY, note text)")
                    _ = try await session.query("INSERT INTO secrets SELECT g, 'before' FROM generate_series(1, 100) g")
                    _ = try await session.query("SELECT pg_switch_wal()")
                }
                // The key: readable by the archive_command's user only.
                let keyHex = (try #require(SecureRandomHex.make()))
                let keyFile = "\(lab.dir)/backup.key"
                try (keyHex + "\n").write(toFile: keyFile, atomically: true, encoding: .utf8)
                chmod(keyFile, 0o600)
                _ = try await CommandRunner.run(["chown", "postgres:postgres", keyFile])
                try original.replacing("backup:\n", with: "backup:\n  encryption: {key_file: \(keyFile)}\n")
                    .write(toFile: lab.configFile, atomically: true, encoding: .utf8)

                var outputs: [String] = []
                func run(_ arguments: [String], config: String? = nil) async throws -> CommandRunner.Output {
                    let result = try await drctl(arguments, config: config ?? lab.configFile)
                    outputs.append(result.stdout + result.stderr)
                    return result
                }
                let base = try await run(["backup", "run", "--kind", "base", "--json"])
                #expect(base.status == 0, "\(base.stderr)")
                let manifest = try #require(try JSONDecoder().decode([BackupManifest].self, from: Data(base.stdout.utf8)).first)
                #expect(manifest.path == "base.tar.zst.enc" && manifest.encryption == "aes-256-gcm" && manifest.keyID?.count == 16)
                let dump = try await run(["backup", "run", "--kind", "logical", "--json"])
                #expect(dump.status == 0, "\(dump.stderr)")
                let dumpManifest = try #require(try JSONDecoder().decode([BackupManifest].self, from: Data(dump.stdout.utf8)).first)
                #expect(dumpManifest.path.hasSuffix(".dump.enc"))
                try await PGConnection.withSession(node: "pg1", conninfo: pg1.conninfo) { session in
                    _ = try await session.query("INSERT INTO secrets SELECT g, 'after' FROM generate_series(101, 200) g")
                    _ = try await session.query("SELECT pg_switch_wal()")
                }
                #expect(
                    try await eventually(within: .seconds(30)) {
                        try await PGConnection.withSession(node: "pg1", conninfo: pg1.conninfo) { session in
                            try await session.query("SELECT last_archived_wal >= pg_walfile_name(pg_current_wal_lsn() - 1) AS done FROM pg_stat_archiver")
                                .single().optionalBool("done") ?? false
                        }
                    })
                let wal = try FileManager.default.contentsOfDirectory(atPath: "\(lab.backupDir)/lab/wal")
                #expect(wal.contains { $0.hasSuffix(".zst.enc") } && wal.contains { $0.hasSuffix(".zst") }, "sealed after the switch, plain before: \(wal)")

                let verify = try await run(["backup", "verify", "--archive"])
                #expect(verify.status == 0, "\(verify.stdout)\(verify.stderr)")

                // Without drctl: the documented reader, then GNU tar with zstd.
                let sealed = "\(lab.backupDir)/lab/\(manifest.id)/\(manifest.path)"
                let opened = "\(lab.dir)/base.tar.zst"
                let python = try await CommandRunner.run(["/usr/bin/python3", Self.reader, keyFile, sealed, opened], check: false)
                #expect(python.status == 0, "\(python.stderr)")
                let listing = try await CommandRunner.run(["tar", "--zstd", "-tf", opened], check: false)
                #expect(listing.status == 0 && listing.stdout.contains("backup_label") && listing.stdout.contains("global/pg_control"))
                #expect(try await CommandRunner.run(["tar", "--zstd", "-tf", sealed], check: false).status != 0, "stored sealed")

                // Without the key: refused before anything is written, naming the key.
                let noKeyDir = "\(lab.dir)/no-key"
                let refused = try await run(["restore", "--to", noKeyDir, "--latest", "--kind", "base", "--port", String(try PortAllocator.freePort())], config: plainConfig)
                #expect(refused.status == 1 && refused.stderr.contains(manifest.keyID ?? "?"), "\(refused.stdout)\(refused.stderr)")
                #expect(((try? FileManager.default.contentsOfDirectory(atPath: noKeyDir)) ?? []).isEmpty)

                let dir = "\(lab.dir)/restored", port = try PortAllocator.freePort()
                let restored = try await run(["restore", "--to", dir, "--latest", "--kind", "base", "--port", String(port)])
                #expect(restored.status == 0, "\(restored.stdout)\(restored.stderr)")
                let rows = try await PGConnection.withSession(node: "restored", conninfo: "host=127.0.0.1 port=\(port) user=postgres dbname=postgres") { session in
                    try await session.query("SELECT count(*) AS n FROM secrets").single().int("n")
                }
                #expect(rows == 200, "both batches: WAL read across the switch to sealed")
                _ = try? await CommandRunner.run(["/usr/lib/postgresql/15/bin/pg_ctl", "-D", dir, "-m", "immediate", "stop"], as: .forPostgres, check: false)

                let dumpDir = "\(lab.dir)/restored-dump", dumpPort = try PortAllocator.freePort()
                let fromDump = try await run(["restore", "--to", dumpDir, "--latest", "--kind", "logical", "--port", String(dumpPort)])
                #expect(fromDump.status == 0, "\(fromDump.stdout)\(fromDump.stderr)")
                _ = try? await CommandRunner.run(["/usr/lib/postgresql/15/bin/pg_ctl", "-D", dumpDir, "-m", "immediate", "stop"], as: .forPostgres, check: false)

                #expect(!outputs.joined().contains(keyHex), "the key is never printed")
                let logs = (try? FileManager.default.contentsOfDirectory(atPath: lab.dir).filter { $0.hasSuffix(".log") }) ?? []
                for log in logs {
                    #expect(!((try? String(contentsOfFile: "\(lab.dir)/\(log)", encoding: .utf8)) ?? "").contains(keyHex), "\(log)")
                }
            }
        }

        static let reader = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../scripts/decrypt-backup.py").standardized.path
    }
}

/// A fresh 32-byte key as 64 hex digits, as `openssl rand -hex 32` makes one.
enum SecureRandomHex {
    static func make() -> String? {
        guard let handle = FileHandle(forReadingAtPath: "/dev/urandom"), let bytes = try? handle.read(upToCount: 32), bytes.count == 32 else { return nil }
        return bytes.map { String(format: "%02x", $0) }.joined()
    }
}
