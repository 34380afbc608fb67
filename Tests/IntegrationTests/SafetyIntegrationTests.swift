import DRCoordination
import DRCore
import DRLab
import DRPostgres
import DRSystem
import Foundation
import Testing

/// Faults outside the scripted list, driven the way a host, an init system or a service
/// manager drives them (issue: safety under faults outside today's test list). Each one
/// broke a safety invariant of DESIGN.md before its fix.
extension RealServers {
    @Suite("safety under restarts and unknown records")
    struct SafetyIntegrationTests {
        /// Tries one write to `conninfo` per 200 ms for `duration`; returns how many were acknowledged.
        static func acknowledgedWrites(_ conninfo: String, table: String, for duration: Duration) async -> Int {
            let clock = ContinuousClock()
            let end = clock.now + duration
            var acknowledged = 0
            while clock.now < end {
                let ok =
                    (try? await PGConnection.withSession(node: "probe", conninfo: conninfo, connectTimeout: .seconds(1), statementTimeout: .seconds(1)) { session in
                        _ = try await session.query("INSERT INTO \(table) VALUES (1)")
                        return true
                    }) ?? false
                if ok { acknowledged += 1 }
                try? await Task.sleep(for: .milliseconds(200))
            }
            return acknowledged
        }

        static func agentPID(_ lab: LabState, _ region: String) throws -> Int32 {
            try #require(try LabState.load(dir: lab.dir).agents.first { $0.region == region }?.pid)
        }

        /// Invariant 2: the host of a fenced primary "reboots" while still cut off — the agent
        /// dies, init starts PostgreSQL, the agent starts again. PostgreSQL itself must refuse
        /// writes (it was left a standby.signal), and the agent must not make it writable.
        @Test func aFencedPrimaryRestartedWhileCutOffNeverAcceptsWrites() async throws {
            try await withLab { lab in
                let pg1 = try lab.node("pg1"), pg2 = try lab.node("pg2")
                try await PGConnection.withSession(node: "pg1", conninfo: pg1.conninfo) { session in
                    _ = try await session.query("CREATE TABLE t (id int)")
                }
                _ = try await eventually { try await lab.status().nodes.first { $0.name == "pg2" }?.lagBytes == 0 }
                try await Lab.isolate(dir: lab.dir, region: "region1")
                let etcd = try EtcdCoordinator.forConfig(try lab.config())
                let promoted = try await eventually(within: .seconds(60)) {
                    let leader = try await etcd.leader()?.node, role = try await lab.status().nodes.first { $0.name == "pg2" }?.role
                    return leader == "pg2" && role == .primary
                }
                #expect(promoted, "pg2 is promoted while region1 is cut off")
                let fenced = try await eventually(within: .seconds(20)) { pg1.pid == nil }
                #expect(fenced, "pg1 was fenced (stopped) at its lease deadline")

                // The reboot, still isolated: agent gone, PostgreSQL started by init, agent started again.
                let agent = try Self.agentPID(lab, "region1")
                kill(agent, SIGKILL)
                #expect(await ProcessControl.waitForExit(agent, within: .seconds(5)))
                try await pg1.start()
                _ = try Lab.startAgent(dir: lab.dir, region: "region1", binary: try DrctlBinary.path())

                let acknowledged = await Self.acknowledgedWrites(pg1.conninfo, table: "t", for: .seconds(10))
                #expect(acknowledged == 0, "pg1 acknowledged \(acknowledged) writes while pg2 is the primary: split brain")
                let inRecovery = try? await PGConnection.withSession(node: "pg1", conninfo: pg1.conninfo, connectTimeout: .seconds(2)) { session in
                    try await session.query("SELECT pg_is_in_recovery() AS r").single().bool("r")
                }
                #expect(inRecovery != false, "if pg1 runs at all, PostgreSQL itself keeps it read-only")

                try await Lab.heal(dir: lab.dir, region: "region1")
                try await Task.sleep(for: .seconds(3))
                let report = try await lab.status()
                #expect(report.verdict != .splitBrain)
                #expect(report.nodes.first { $0.name == "pg1" }?.role != .primary, "after heal pg1 stays fenced until a rejoin")
                #expect(report.nodes.first { $0.name == "pg2" }?.role == .primary)
                #expect(
                    try await PGConnection.withSession(node: "pg2", conninfo: pg2.conninfo) { session in
                        try await session.query("SELECT pg_is_in_recovery() AS r").single().bool("r")
                    } == false)
            }
        }

        /// Invariant 5: a newer agent's member record (an unknown role, extra fields) and a
        /// record nobody can read sit under `members/`; the cluster goes on, reports the
        /// unreadable one, and still fails over.
        @Test func unknownAndUnreadableRecordsNeitherStopRenewalsNorFailover() async throws {
            try await withLab { lab in
                let config = try lab.config()
                let etcd = try EtcdCoordinator.forConfig(config)
                let before = try #require(try await etcd.leader())
                let prefix = config.coordination.prefix.hasSuffix("/") ? config.coordination.prefix : config.coordination.prefix + "/"
                let newer =
                    #"{"name":"pg9","region":"region9","role":"witness","timeline":1,"healthy":true,"failed_checks":0,"nofailover":false,"priority":100,"published_at_ms":1,"clock_ms":5,"zone":"b"}"#
                for (key, value) in [("members/pg9", newer), ("members/broken", #"{"name": 42"#)] {
                    try await CommandRunner.run(
                        ["etcdctl", "--endpoints", config.coordination.endpoints.joined(separator: ","), "put", prefix + key, value],
                        environment: ["ETCDCTL_API": "3"])
                }
                let pg1 = try lab.node("pg1")
                try await PGConnection.withSession(node: "pg1", conninfo: pg1.conninfo) { session in
                    _ = try await session.query("CREATE TABLE t (id int)")
                }
                let acknowledged = await Self.acknowledgedWrites(pg1.conninfo, table: "t", for: .seconds(6))
                #expect(acknowledged >= 20, "pg1 kept taking writes (\(acknowledged) of ~28)")
                #expect(try await etcd.leader() == before, "same leader, same term: the lease was renewed throughout")
                #expect(try await etcd.members().contains { $0.name == "pg9" && $0.role == .unknown })

                let status = try await CLITests.drctl(["status", "--config", lab.configFile, "--json"])
                #expect(status.stdout.contains("\(prefix)members/broken skipped"), "\(status.stdout)")
                #expect(!status.stdout.contains("\(prefix)members/pg9 skipped"), "a newer record is read, not skipped")
                let table = try await CLITests.drctl(["status", "--config", lab.configFile])
                #expect(table.stdout.contains("skipped"), "the table shows it too")

                _ = try await Lab.kill(dir: lab.dir, node: "pg1")
                let failedOver = try await eventually(within: .seconds(60)) {
                    let leader = try await etcd.leader()?.node, role = try await lab.status().nodes.first { $0.name == "pg2" }?.role
                    return leader == "pg2" && role == .primary
                }
                #expect(failedOver, "an unreadable record does not stop a failover")
            }
        }

        /// Invariant 6: a service manager restarts the primary's agent (SIGTERM, then start):
        /// no failover, and the primary keeps taking writes. The watchdog of the stopped agent
        /// hands over to the new agent's and exits.
        @Test func restartingThePrimarysAgentIsNoFailover() async throws {
            try await withLab { lab in
                let etcd = try EtcdCoordinator.forConfig(try lab.config())
                let before = try #require(try await etcd.leader())
                let pg1 = try lab.node("pg1")
                try await PGConnection.withSession(node: "pg1", conninfo: pg1.conninfo) { session in
                    _ = try await session.query("CREATE TABLE t (id int)")
                }
                let pidText = try String(contentsOfFile: "\(lab.dir)/agents/region1/watchdog-pg1.pid", encoding: .utf8)
                let oldWatchdog = try #require(Int32(pidText.trimmingCharacters(in: .whitespacesAndNewlines)))
                async let acknowledged = Self.acknowledgedWrites(pg1.conninfo, table: "t", for: .seconds(10))
                try await Task.sleep(for: .seconds(1))
                let agent = try Self.agentPID(lab, "region1")
                kill(agent, SIGTERM)
                #expect(await ProcessControl.waitForExit(agent, within: .seconds(15)))
                _ = try Lab.startAgent(dir: lab.dir, region: "region1", binary: try DrctlBinary.path())
                let writes = await acknowledged

                #expect(writes >= 35, "pg1 kept taking writes through the restart (\(writes) of ~45)")
                #expect(try await etcd.leader() == before, "same holder, same term")
                #expect(try await etcd.history().isEmpty, "no failover recorded")
                let report = try await lab.status()
                #expect(report.nodes.first { $0.name == "pg1" }?.role == .primary)
                #expect(report.nodes.first { $0.name == "pg2" }?.role == .standby)
                let exited = await ProcessControl.waitForExit(oldWatchdog, within: .seconds(10))
                #expect(exited, "the stopped agent's watchdog exits once the restarted agent owns the lease")
            }
        }

        /// Invariant 6, the other half: an agent stopped and not started again leads to a
        /// failover within the lease, and its database stops before the new primary starts.
        @Test func aStoppedPrimaryAgentThatStaysStoppedLeadsToAFailover() async throws {
            try await withLab { lab in
                let (old, new) = try await WriteLoad.acrossHandover(lab, for: .seconds(15)) {
                    kill(try Self.agentPID(lab, "region1"), SIGTERM)
                }
                let lastOld = try #require(old.last)
                let firstNew = try #require(new.first, "pg2 must be promoted once pg1's lease runs out")
                #expect(lastOld < firstNew, "pg1 stopped acknowledging before pg2 started")
                let log = try String(contentsOfFile: "\(lab.dir)/agents/region1/watchdog-pg1.log", encoding: .utf8)
                #expect(log.contains("agent missed its lease deadline"), "\(log.suffix(2000))")
            }
        }

        /// A promotion that outlasts the lease (here: WAL replay blocked by a query on the
        /// standby, as a long replay would) keeps its lease, is waited on and reported, and
        /// is never fenced or abandoned half-way.
        @Test func aSlowPromotionKeepsItsLeaseAndIsWaitedOn() async throws {
            try await withLab { lab in
                let pg1 = try lab.node("pg1"), pg2 = try lab.node("pg2")
                try await PGConnection.withSession(node: "pg1", conninfo: pg1.conninfo) { session in
                    _ = try await session.query("CREATE TABLE t (id int)")
                }
                // Replay waits for conflicting standby queries as long as they run.
                try await PGConnection.withSession(node: "pg2", conninfo: pg2.conninfo) { session in
                    _ = try await session.query("ALTER SYSTEM SET max_standby_streaming_delay = -1")
                    _ = try await session.query("ALTER SYSTEM SET max_standby_archive_delay = -1")
                    _ = try await session.query("SELECT pg_reload_conf()")
                }
                _ = try await eventually { try await lab.status().nodes.first { $0.name == "pg2" }?.lagBytes == 0 }
                let hold = Duration.seconds(16)
                async let holder: Void = PGConnection.withSession(node: "pg2", conninfo: pg2.conninfo) { session in
                    _ = try await session.query("BEGIN")
                    _ = try await session.query("SELECT count(*) FROM t")
                    try await Task.sleep(for: hold)
                    _ = try await session.query("COMMIT")
                }
                try await Task.sleep(for: .seconds(1))
                // Its exclusive lock reaches pg2 and stops replay there behind the open query.
                let end = try await PGConnection.withSession(node: "pg1", conninfo: pg1.conninfo) { session in
                    _ = try await session.query("TRUNCATE t")
                    return try await session.query("SELECT pg_current_wal_lsn()::text AS l").single().string("l")
                }
                // Received (not replayed: replay is what the query blocks) up to pg1's end.
                let received = try await eventually {
                    try await PGConnection.withSession(node: "pg2", conninfo: pg2.conninfo) { session in
                        try await session.query("SELECT pg_last_wal_receive_lsn() >= $1::pg_lsn AS r", [end]).single().bool("r")
                    }
                }
                #expect(received)
                let clock = ContinuousClock()
                let killedAt = clock.now
                _ = try await Lab.kill(dir: lab.dir, node: "pg1")
                try await holder

                let writable = try await eventually(within: .seconds(30)) {
                    (try? await PGConnection.withSession(node: "pg2", conninfo: pg2.conninfo, connectTimeout: .seconds(1)) { session in
                        try await !session.query("SELECT pg_is_in_recovery() AS r").single().bool("r")
                    }) ?? false
                }
                #expect(writable, "pg2 finishes its promotion")
                #expect(clock.now - killedAt > .seconds(6), "the promotion outlasted the 2 s lease several times over")
                let etcd = try EtcdCoordinator.forConfig(try lab.config())
                #expect(try await etcd.leader()?.node == "pg2", "under the lease it kept throughout")
                let watchdog = (try? String(contentsOfFile: "\(lab.dir)/agents/region2/watchdog-pg2.log", encoding: .utf8)) ?? ""
                #expect(!watchdog.contains("agent missed its lease deadline"), "the promoting node was never fenced:\n\(watchdog.suffix(1500))")
                let agentLog = try String(contentsOfFile: "\(lab.dir)/agents/region2/agent.log", encoding: .utf8)
                #expect(agentLog.contains("promotion still running"), "a slow promotion is reported")
                _ = try await eventually(within: .seconds(10)) { try await !etcd.history().isEmpty }
                #expect(try await etcd.history().last?.promoted == "pg2")
            }
        }

        /// A server that stops answering mid-session (frozen, or its network black-holed):
        /// the server's statement time-out cannot fire, so the client's own limit must end
        /// the wait instead of TCP's retransmissions stalling a tick for minutes.
        @Test func aFrozenServerEndsAQueryAtTheClientsLimit() async throws {
            try await withLab(agents: false) { lab in
                let pg1 = try lab.node("pg1")
                let session = try await PGConnection.connect(node: "pg1", conninfo: pg1.conninfo, connectTimeout: .seconds(1), statementTimeout: .seconds(1))
                let backend = try await session.query("SELECT pg_backend_pid() AS p").single().int("p")
                kill(Int32(backend), SIGSTOP)
                defer { kill(Int32(backend), SIGCONT) }
                let outcome = await Task {
                    do {
                        _ = try await session.query("SELECT 1")
                        return "answered"
                    } catch let error as PGError {
                        return error.kind.rawValue
                    } catch {
                        return "\(error)"
                    }
                }.value
                #expect(outcome == "timeout")
                let again = try? await session.query("SELECT 1")
                #expect(again == nil, "the abandoned session is closed")
            }
        }
    }
}
