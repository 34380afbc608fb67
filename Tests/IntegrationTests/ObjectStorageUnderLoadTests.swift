import DRBackup
import DRCore
import DRLab
import DRPostgres
import DRSystem
import Foundation
import Testing

extension RealServers.ObjectStorageIntegrationTests {
    /// S3 under load (issue 27): the gate answers a seeded tenth of the requests with 503
    /// SlowDown and cuts a tenth of the downloads after half their body, as S3 and the
    /// networks in front of it do. A transient failure must never read as a damaged backup:
    /// backups, the WAL archive, verification and a restore all come through, retried.
    @Test func aBucketThatSlowsDownAndDropsConnectionsLosesNothing() async throws {
        try await withLab { lab in
            let original = try String(contentsOfFile: lab.configFile, encoding: .utf8)
            let s3 = try await S3Server.start(
                directory: "\(lab.dir)/s3", region: "eu-west-1", buckets: [Self.bucket], faults: .init(seed: 27, slowDown: 0.1, cutBody: 0.1))
            defer { Task { try? await s3.stop() } }
            let config = "\(lab.dir)/s3.yaml"
            let text = try s3Config(lab, s3, region3At: "eu-west-1", from: original)
            try text.write(toFile: config, atomically: true, encoding: .utf8)
            try text.write(toFile: lab.configFile, atomically: true, encoding: .utf8)

            let pg1 = try lab.node("pg1")
            try await PGConnection.withSession(node: "pg1", conninfo: pg1.conninfo) { session in
                _ = try await session.query("CREATE TABLE payload AS SELECT g AS id, md5(g::text) AS v FROM generate_series(1, 200000) g")
            }
            for kind in ["base", "logical"] {
                let taken = try await drctl(["backup", "run", "--kind", kind], config: config)
                #expect(taken.status == 0, "\(kind): \(taken.stdout)\(taken.stderr)")
            }
            try await PGConnection.withSession(node: "pg1", conninfo: pg1.conninfo) { session in
                _ = try await session.query("INSERT INTO payload SELECT g, 'after' FROM generate_series(200001, 200100) g")
                _ = try await session.query("SELECT pg_switch_wal()")
            }
            let verified = try await drctl(["backup", "verify"], config: config)
            #expect(verified.status == 0 && !verified.stdout.contains("damaged"), "\(verified.stdout)\(verified.stderr)")
            let listed = try JSONDecoder().decode([BackupManifest].self, from: Data(try await drctl(["backup", "list", "--json"], config: config).stdout.utf8))
            #expect(listed.count == 2 && listed.allSatisfy { $0.damage == nil }, "no backup marked damaged: \(listed.map(\.damage))")
            // The switched segment reaches the bucket (archive_command retried by PostgreSQL
            // at worst) before the restore needs it.
            #expect(
                try await eventually(within: .seconds(60)) {
                    let wal = try await drctl(["backup", "list", "--json"], config: config)
                    return wal.status == 0 && s3.requests().contains { $0.method == "PUT" && $0.path.contains("/wal/") && $0.verdict == "ok" }
                })

            let dir = "\(lab.dir)/restored"
            let port = try PortAllocator.freePort()
            let restored = try await drctl(["restore", "--latest", "--kind", "base", "--to", dir, "--port", String(port)], config: config)
            #expect(restored.status == 0, "\(restored.stdout)\(restored.stderr)")
            if restored.status == 0 {
                let rows = try await PGConnection.withSession(node: "restored", conninfo: "host=127.0.0.1 port=\(port) user=postgres dbname=postgres") { session in
                    try await session.query("SELECT count(*) AS n FROM payload").single().int("n")
                }
                #expect(rows == 200_100, "the base backup plus the archived WAL after it")
            }
            _ = try? await CommandRunner.run(["/usr/lib/postgresql/15/bin/pg_ctl", "-D", dir, "-m", "immediate", "stop"], as: .forPostgres, check: false)

            // Pushes are conditional creates on the bucket too: the same bytes again are fine,
            // other bytes under the name are refused, whatever the retries saw.
            let segment = "\(lab.dir)/segment"
            try Data(repeating: 7, count: 4096).write(to: URL(fileURLWithPath: segment))
            #expect(try await drctl(["wal-push", segment, "0000000900000000000000AA"], config: config).status == 0)
            #expect(try await drctl(["wal-push", segment, "0000000900000000000000AA"], config: config).status == 0, "idempotent")
            try Data(repeating: 8, count: 4096).write(to: URL(fileURLWithPath: segment))
            let clash = try await drctl(["wal-push", segment, "0000000900000000000000AA"], config: config)
            #expect(clash.status == 1 && clash.stderr.contains("refusing to overwrite"), "\(clash.stderr)")
            #expect(try await drctl(["wal-fetch", "0000000900000000000000AA", "\(lab.dir)/fetched"], config: config).status == 0)
            #expect(FileManager.default.contents(atPath: "\(lab.dir)/fetched") == Data(repeating: 7, count: 4096))

            let verdicts = s3.requests().map(\.verdict)
            #expect(verdicts.contains("fault: SlowDown") && verdicts.contains("fault: body cut"), "the faults were injected")
            #expect(verdicts.allSatisfy { $0 == "ok" || $0.hasPrefix("fault: ") }, "every signature matched botocore's")
        }
    }
}
