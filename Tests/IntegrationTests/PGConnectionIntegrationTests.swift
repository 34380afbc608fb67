import DRLab
import DRPostgres
import Foundation
import Testing

extension RealServers {
    /// What a client may count as committed when a commit waits for a synchronous standby
    /// that never answers. PostgreSQL sends `INSERT … RETURNING`'s rows before the commit:
    /// a fast shutdown during the wait ends the session without confirming the commit, and a
    /// cancelled wait confirms it with a warning that it might not have been replicated. The
    /// fault campaign counted both as acknowledged once and reported a lost write.
    @Suite("libpq sessions under synchronous replication")
    struct PGConnectionIntegrationTests {
        /// An admin session to `primary`, whose commits now wait for a standby that never
        /// comes; the table `waits` is created first (it would wait too).
        static func waitingForANonexistentStandby(_ primary: PostgresServer) async throws -> PGConnection {
            let admin = try await primary.connect()
            _ = try await admin.query("CREATE TABLE waits (id int)")
            _ = try await admin.query("ALTER SYSTEM SET synchronous_standby_names = 'nobody'")
            _ = try await admin.query("SELECT pg_reload_conf()")
            // The postmaster reloads asynchronously: a session forked before it did keeps the
            // old setting, and its commit would not wait (CI saw exactly that).
            let reloaded = try await eventually(within: .seconds(10)) {
                let probe = try await primary.connect()
                defer { Task { await probe.close() } }
                return try await probe.query("SELECT current_setting('synchronous_standby_names') AS s").single().string("s") == "nobody"
            }
            #expect(reloaded, "new sessions see synchronous_standby_names = 'nobody'")
            return admin
        }

        @Test func aCommitEndedByAFastShutdownIsAnErrorNotRows() async throws {
            try await withLab(agents: false) { lab in
                let primary = try lab.node("pg1")
                let admin = try await Self.waitingForANonexistentStandby(primary)
                let writer = try await primary.connect()
                let insert = Task { try await writer.query("INSERT INTO waits VALUES (1) RETURNING id") }
                #expect(
                    try await eventually(within: .seconds(10)) {
                        try await admin.query("SELECT count(*) AS n FROM pg_stat_activity WHERE wait_event = 'SyncRep'").single().string("n") == "1"
                    })
                await admin.close()
                try await primary.stop()
                await #expect(throws: PGError.self, "the rows came, the commit was never confirmed") { _ = try await insert.value }
            }
        }

        @Test func aCancelledWaitComesBackWithTheWarning() async throws {
            try await withLab(agents: false) { lab in
                let primary = try lab.node("pg1")
                let admin = try await Self.waitingForANonexistentStandby(primary)
                // statement_timeout does not reach a commit's wait; an operator's or a
                // pooler's cancel does.
                let writer = try await primary.connect()
                let insert = Task { try await writer.query("INSERT INTO waits VALUES (1) RETURNING id") }
                #expect(
                    try await eventually(within: .seconds(10)) {
                        try await admin.query("SELECT count(pg_cancel_backend(pid)) AS n FROM pg_stat_activity WHERE wait_event = 'SyncRep'").single().string("n") == "1"
                    })
                let result = try await insert.value
                #expect(try result.single().string("id") == "1", "PostgreSQL reports the commit")
                #expect(result.notices.contains { $0.hasPrefix("WARNING: canceling wait for synchronous replication") && $0.contains("might not have been replicated") }, "\(result.notices)")
            }
        }
    }
}
