import DRAgent
import DRCore
import DRLab
import DRPostgres
import DRSystem
import Foundation
import Testing

extension RealServers {
    /// Fencing a real PostgreSQL 15 whose postmaster is stopped (SIGSTOP) while a session it
    /// opened earlier still commits — as an application's pool keeps its connections. New
    /// connections hang, so every health check fails; `pg_ctl stop` would wait for the
    /// stopped postmaster forever. The fence must end the committing session too, and say so
    /// only once no process of the data directory is left.
    @Suite("fencing a server that stops answering")
    struct FenceIntegrationTests {
        @Test func aStoppedPostmasterWhoseOpenSessionStillCommitsIsFencedWithProof() async throws {
            try await withLab(agents: false) { lab in
                let primary = try lab.node("pg1")
                let node = try #require(try lab.config().node(named: "pg1")?.node)
                let dataDir = try #require(node.dataDir)
                let pool = try await primary.connect()
                _ = try await pool.query("CREATE TABLE fenced (id int)")
                let postmaster = try #require(primary.pid)
                kill(postmaster, SIGSTOP)
                defer { kill(postmaster, SIGCONT) }  // never left stopped, whatever happens

                let controller = PostgresController(node: node, promotionTimeout: .seconds(10), healthTimeout: .seconds(1))
                let probe = await controller.observe()
                #expect(!{ if case .primary = probe { true } else { false } }(), "a new connection gets no answer: \(probe)")
                _ = try await pool.query("INSERT INTO fenced VALUES (1)")  // committed over the open session
                #expect(DataDirectoryProcesses.isStopped(postmaster))
                #expect(DataDirectoryProcesses.scan(dataDir).pids.count > 2, "postmaster, the pool's backend and the background processes")

                try await controller.fence(within: .seconds(2))
                #expect(DataDirectoryProcesses.scan(dataDir).provenEmpty, "no PostgreSQL process left in \(dataDir)")
                #expect(!ProcessControl.isAlive(postmaster))
                await #expect(throws: PGError.self, "the open session can commit nothing more") {
                    _ = try await pool.query("INSERT INTO fenced VALUES (2)")
                }
                #expect(FileManager.default.fileExists(atPath: "\(dataDir)/standby.signal"), "a restart comes up read-only")
                await pool.close()
            }
        }

        /// A postmaster that already died (kill -9) leaves backends that still serve their
        /// sessions until they notice; the fence's fast path ends them at once and proves it.
        @Test func aKilledPostmastersLeftoverBackendsAreEndedAtOnce() async throws {
            try await withLab(agents: false) { lab in
                let primary = try lab.node("pg1")
                let node = try #require(try lab.config().node(named: "pg1")?.node)
                let dataDir = try #require(node.dataDir)
                let pool = try await primary.connect()
                let postmaster = try #require(primary.pid)
                kill(postmaster, SIGKILL)
                _ = await ProcessControl.waitForExit(postmaster, within: .seconds(5))
                let controller = PostgresController(node: node, promotionTimeout: .seconds(10), healthTimeout: .seconds(1))
                let started = ContinuousClock.now
                try await controller.fence(within: .seconds(10))
                #expect(ContinuousClock.now - started < .seconds(1), "the fast path stays fast")
                #expect(DataDirectoryProcesses.scan(dataDir).provenEmpty)
                await pool.close()
            }
        }
    }
}
