import DRBackup
import DRCore
import DRLab
import DRPostgres
import DRSystem
import Foundation
import Testing

extension RealServers.BackupIntegrationTests {
    /// The recovery targets operators know from pgBackRest (issue 27): a named restore
    /// point (`drctl backup mark`), a transaction id, `immediate`, and what the server does
    /// there (`--target-action pause` stays read-only in recovery).
    @Test func restoreToANamedPointATransactionOrTheBackupsEnd() async throws {
        try await withLab { lab in
            let pg1 = try lab.node("pg1")
            #expect(try await drctl(["backup", "run", "--kind", "base"], lab).status == 0)
            let xid = try await PGConnection.withSession(node: "pg1", conninfo: pg1.conninfo) { session in
                _ = try await session.query("CREATE TABLE batches (id int PRIMARY KEY, batch int)")
                let xid = try await session.query("INSERT INTO batches SELECT g, 1 FROM generate_series(1, 100) g RETURNING txid_current()::text AS x")
                    .rows.first?.string("x")
                return try #require(xid)
            }
            let mark = try await drctl(["backup", "mark", "before-batch-2"], lab)
            #expect(mark.status == 0 && mark.stdout.contains("restore point before-batch-2"), "\(mark.stdout)\(mark.stderr)")
            try await PGConnection.withSession(node: "pg1", conninfo: pg1.conninfo) { session in
                _ = try await session.query("INSERT INTO batches SELECT g, 2 FROM generate_series(101, 200) g")
                _ = try await session.query("SELECT pg_switch_wal()")
            }
            try await switchAndArchive(lab, count: 1)

            func restored(_ arguments: [String], _ label: String) async throws -> (rows: Int?, inRecovery: Bool?) {
                let dir = "\(lab.dir)/\(label)"
                let port = try PortAllocator.freePort()
                let result = try await drctl(["restore", "--to", dir, "--port", String(port)] + arguments, lab)
                #expect(result.status == 0, "\(label): \(result.stdout)\(result.stderr)")
                defer { Task { await stopInstance(dir) } }
                guard result.status == 0 else { return (nil, nil) }
                return try await PGConnection.withSession(node: label, conninfo: "host=127.0.0.1 port=\(port) user=postgres dbname=postgres") { session in
                    let recovery = try await session.query("SELECT pg_is_in_recovery() AS r").single().bool("r")
                    let exists = try await session.query("SELECT to_regclass('batches') IS NOT NULL AS e").single().bool("e")
                    let rows = exists ? try await session.query("SELECT count(*) AS n FROM batches").single().int("n") : 0
                    return (rows, recovery)
                }
            }
            #expect(try await restored(["--target-name", "before-batch-2"], "named").rows == 100, "the first batch, not the second")
            #expect(try await restored(["--target-xid", xid], "xid").rows == 100, "up to and with the first batch's transaction")
            let paused = try await restored(["--target-name", "before-batch-2", "--target-action", "pause"], "paused")
            #expect(paused.rows == 100 && paused.inRecovery == true, "paused at the target, read-only")
            #expect(try await restored(["--target-immediate"], "immediate").rows == 0, "the base backup's end: before the table existed")
            let refused = try await drctl(["restore", "--to", "\(lab.dir)/bad", "--target-xid", "x1", "--port", "1"], lab)
            #expect(refused.status == 2 && refused.stderr.contains("--target-xid"), "\(refused.stderr)")
        }
    }
}
