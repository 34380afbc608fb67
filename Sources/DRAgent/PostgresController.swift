import DRCore
import DRPostgres
import DRSystem
import Foundation

/// The PostgreSQL server the agent runs beside, observed through libpq and changed
/// through libpq and `pg_ctl` (run as the server's user when the agent is root).
public struct PostgresController: DatabaseController {
    let node: NodeConfig
    let promotionTimeout: Duration
    let probe: NodeProbe
    /// What building a standby from the backup repository needs: the configuration, and
    /// how the standby's `restore_command` calls drctl. Nil: from the primary only.
    let repository: StandbyClone.RepositorySource?

    /// - Parameter healthTimeout: a health check's connect time-out; its queries get at
    ///   least a second.
    public init(node: NodeConfig, promotionTimeout: Duration, healthTimeout: Duration, repository: StandbyClone.RepositorySource? = nil) {
        self.repository = repository
        self.node = node
        self.promotionTimeout = promotionTimeout
        self.probe = NodeProbe(connectTimeout: healthTimeout, statementTimeout: max(healthTimeout, .seconds(1)))
    }

    public func reconfigured(_ config: ClusterConfig, node: NodeConfig) -> any DatabaseController {
        var repository = repository
        repository?.config = config
        return PostgresController(
            node: node, promotionTimeout: config.failover.promotionTimeout, healthTimeout: config.health.timeout, repository: repository)
    }

    public func observe() async -> ProbeResult {
        await probe.observe(node: node.name, conninfo: node.conninfo).result
    }

    /// Only a live postmaster: a stale PID would end every wait at once.
    public func waitForExit(within limit: Duration) async -> Bool {
        guard let postmaster = postmasterPID(), ProcessControl.isAlive(postmaster) else { return false }
        return await ProcessControl.exitEvent(postmaster, within: limit)
    }

    /// Promotes the standby and waits until it accepts writes, however long its remaining
    /// WAL replay takes: once signalled, PostgreSQL goes on promoting, so giving up at a
    /// time-out would only leave a database becoming writable behind the agent's back.
    /// `slow` is called each further `promotionTimeout` it runs (the caller keeps the lease
    /// meanwhile); only a lost connection or a refused signal ends the wait with an error.
    public func promote(slow: @escaping @Sendable (Duration) async -> Void) async throws {
        try await PGConnection.withSession(node: node.name, conninfo: node.conninfo, statementTimeout: .seconds(10)) { session in
            func inRecovery() async throws -> Bool { try await session.query("SELECT pg_is_in_recovery() AS r").single().bool("r") }
            guard try await inRecovery() else { return }  // promoted already (an earlier attempt's signal)
            guard try await session.query("SELECT pg_promote(false) AS signalled").single().bool("signalled") else {
                throw AgentError.promotionFailed(node: node.name, detail: "pg_promote could not signal the postmaster")
            }
            let clock = ContinuousClock()
            let started = clock.now
            var nextReport = promotionTimeout
            // pg_promote(wait => true) itself polls every 100 ms; half that keeps the failover fast.
            while try await inRecovery() {
                if clock.now - started >= nextReport {
                    await slow(clock.now - started)
                    nextReport += promotionTimeout
                }
                try await Task.sleep(for: .milliseconds(50))
            }
        }
    }

    /// Whether a postmaster process runs for this data directory: false only when that is
    /// certain (no lock file, or its PID is dead or a zombie); nil without a usable
    /// `data_dir`, where nothing can be known this way.
    public func postmasterRunning() -> Bool? {
        guard let dataDir = node.dataDir, FileManager.default.fileExists(atPath: "\(dataDir)/PG_VERSION") else { return nil }
        guard FileManager.default.fileExists(atPath: "\(dataDir)/postmaster.pid") else { return false }
        guard let pid = postmasterPID() else { return nil }
        return ProcessControl.isAlive(pid)
    }

    /// The PID in `postmaster.pid`, alive or not; nil without one.
    func postmasterPID() -> Int32? {
        guard let dataDir = node.dataDir, let text = try? String(contentsOfFile: "\(dataDir)/postmaster.pid", encoding: .utf8) else { return nil }
        return text.split(separator: "\n").first.flatMap { Int32($0.trimmingCharacters(in: .whitespaces)) }
    }

    /// Stops the database so it cannot accept writes, and proves it: a fast shutdown, then an
    /// immediate one, then SIGKILL of the postmaster and of every PostgreSQL process still
    /// working in the data directory (a stopped postmaster gets SIGKILL at once: it acts on
    /// no other signal). Returns only once no such process is left; throws when that cannot
    /// be shown within `limit` (plus the SIGKILL wait), so the caller never treats a server
    /// whose open connections may still commit as stopped. Needs `data_dir`.
    /// - Returns: why `standby.signal` could not be written, if it could not: the server is
    ///   stopped all the same (stopping is what keeps writes out now), but a restart would
    ///   come up writable, which the caller must shout about.
    @discardableResult
    public func fence(within limit: Duration) async throws -> String? {
        guard let dataDir = node.dataDir else {
            throw AgentError.cannotFence(node: node.name, detail: "no data_dir configured for \(node.name): the agent cannot stop its database")
        }
        // First, so that PostgreSQL itself refuses writes whoever starts it next (init after
        // a reboot, an operator, a package upgrade): it comes up in recovery, read-only,
        // until a rejoin rewinds it and a promotion under a new term makes it writable.
        var signalProblem: String?
        do { try await writeStandbySignal(dataDir: dataDir) } catch { signalProblem = "\(error)" }
        // Signals, not pg_ctl: pg_ctl waits for a stopped postmaster like any other, and a
        // crashed one (its PID dead) leaves backends pg_ctl does not know about.
        let postmaster = postmasterRunning() == true ? postmasterPID() : nil
        let fast = min(.seconds(5), limit * 0.45), immediate = min(.seconds(2), limit * 0.25)
        let ending = await DataDirectoryProcesses.end(
            dataDir, postmaster: postmaster, gentle: [(SIGINT, fast), (SIGQUIT, immediate)],
            killWait: max(.milliseconds(250), limit - fast - immediate))
        guard ending.proven else {
            let left = ending.left.pids + ending.left.unreadable
            throw AgentError.cannotFence(
                node: node.name,
                detail: "PostgreSQL processes \(left.map(String.init).joined(separator: ", ")) still run in \(dataDir) after \(ending.steps.joined(separator: "; "))")
        }
        return signalProblem
    }

    public func restartGuarded() -> Bool {
        guard let dataDir = node.dataDir, FileManager.default.fileExists(atPath: "\(dataDir)/PG_VERSION") else { return true }
        return FileManager.default.fileExists(atPath: "\(dataDir)/standby.signal")
    }

    public func guardRestart() throws {
        guard let dataDir = node.dataDir, FileManager.default.fileExists(atPath: "\(dataDir)/PG_VERSION"),
            !FileManager.default.fileExists(atPath: "\(dataDir)/standby.signal")
        else { return }
        let path = "\(dataDir)/standby.signal"
        guard FileManager.default.createFile(atPath: path, contents: Data()) else {
            throw AgentError.cannotFence(node: node.name, detail: "cannot write \(path): a restart would come up writable")
        }
        // Owned by the server's user, as PostgreSQL's own files are (it removes it on promotion).
        if geteuid() == 0, let user = getpwnam("postgres") { chown(path, user.pointee.pw_uid, user.pointee.pw_gid) }
    }

    /// Writes `standby.signal` (owned by the server's user when the agent runs as root).
    /// A running primary ignores it; any later start of the server honours it.
    func writeStandbySignal(dataDir: String) async throws {
        let path = "\(dataDir)/standby.signal"
        guard !FileManager.default.fileExists(atPath: path) else { return }
        do {
            try Data().write(to: URL(fileURLWithPath: path))
        } catch {
            throw AgentError.cannotFence(node: node.name, detail: "cannot write \(path): \(error)")
        }
        if geteuid() == 0 { _ = try? await CommandRunner.run(["chown", "postgres:postgres", path]) }
    }

    /// Commits wait for `standbys` (`SynchronousReplication` keeps it to one, or `*` in
    /// strict mode with none healthy); none makes the primary asynchronous.
    public func setSynchronousStandbys(_ standbys: [String]) async throws {
        let value = SynchronousStandbyNames.format(standbys)
        try await PGConnection.withSession(node: node.name, conninfo: node.conninfo) { session in
            _ = try await session.query("ALTER SYSTEM SET synchronous_standby_names = '\(value.replacing("'", with: "''"))'")
            _ = try await session.query("SELECT pg_reload_conf()")
        }
    }

    /// Starts the database without waiting (`pg_ctl start -W`): the agent's loop must keep
    /// renewing the lease meanwhile, and the next health checks judge the outcome. The
    /// server's output goes to `drctl-restart.log` in the data directory.
    public func crashForDrill() async throws {
        guard let dataDir = node.dataDir else {
            throw AgentError.cannotRestart(node: node.name, detail: "no data_dir configured for \(node.name): a failover drill cannot stop it")
        }
        let pgctl = try PostgresBinaries.binary("pg_ctl")
        try await CommandRunner.run([pgctl, "-D", dataDir, "-m", "immediate", "-t", "30", "-w", "stop"], as: .forPostgres)
    }

    public func restart() async throws {
        guard let dataDir = node.dataDir else {
            throw AgentError.cannotRestart(node: node.name, detail: "no data_dir configured for \(node.name)")
        }
        try removeStaleLockFile(dataDir: dataDir)
        let pgctl = try PostgresBinaries.binary("pg_ctl")
        try await CommandRunner.run([pgctl, "-D", dataDir, "-l", "\(dataDir)/drctl-restart.log", "-W", "start"], as: .forPostgres)
    }

    public func startAsStandby() async throws {
        guard let dataDir = node.dataDir else {
            throw AgentError.cannotRestart(node: node.name, detail: "no data_dir configured for \(node.name)")
        }
        // Written first: whatever happens next, this server starts only in recovery.
        try await writeStandbySignal(dataDir: dataDir)
        if postmasterRunning() == true { return }
        try await restart()
    }

    /// PostgreSQL refuses to start while the PID in postmaster.pid exists at all. A
    /// postmaster still exiting is waited for (the caller tries again later). One that is
    /// only a zombie is dead but may stay unreaped for a while (PID 1 in some containers
    /// reaps late), so its stale lock file is removed; PostgreSQL's shared-memory interlock
    /// still refuses if old backends linger.
    func removeStaleLockFile(dataDir: String) throws {
        let lockFile = "\(dataDir)/postmaster.pid"
        guard let text = try? String(contentsOfFile: lockFile, encoding: .utf8),
            let old = text.split(separator: "\n").first.flatMap({ Int32($0) }), kill(old, 0) == 0 || errno == EPERM
        else { return }
        guard !ProcessControl.isAlive(old) else {
            throw AgentError.cannotRestart(node: node.name, detail: "the crashed postmaster (pid \(old)) is still exiting")
        }
        try FileManager.default.removeItem(atPath: lockFile)
    }

    /// The replication slot on the leader that keeps the WAL this node still needs.
    var slotName: String { ReplicationSlots.name(of: node.name) }

    public func keepSlots(create: [String], drop: [String]) async throws {
        try await PGConnection.withSession(node: node.name, conninfo: node.conninfo) { session in
            // Reserved at once: a standby that is down right now must find the WAL from
            // here on when it returns (max_slot_wal_keep_size bounds what that costs).
            for name in create {
                _ = try await session.query(
                    "SELECT pg_create_physical_replication_slot($1, true) WHERE NOT EXISTS (SELECT 1 FROM pg_replication_slots WHERE slot_name = $1)",
                    [name])
            }
            for name in drop {
                _ = try await session.query(
                    "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = $1 AND slot_type = 'physical' AND NOT active", [name])
            }
        }
    }

    func createSlot(on leader: NodeConfig) async throws {
        try await PGConnection.withSession(node: leader.name, conninfo: leader.conninfo) { session in
            _ = try await session.query(
                """
                SELECT pg_create_physical_replication_slot($1)
                WHERE NOT EXISTS (SELECT 1 FROM pg_replication_slots WHERE slot_name = $1)
                """, [slotName])
        }
    }

    /// `primary_conninfo` towards `leader`, naming this node as `application_name` (which
    /// `synchronous_standby_names` and pg_stat_replication use).
    func upstreamConninfo(_ leader: NodeConfig) -> String {
        "host=\(leader.connection.host) port=\(leader.connection.port) user=\(leader.connection.parameters["user"] ?? "postgres") application_name=\(node.name)"
    }

    /// Removes `drctl promote --force`'s marker (set by ALTER SYSTEM; by ALTER DATABASE in
    /// earlier releases) once the node leads under a term.
    public func clearForcedPromotion() async throws {
        try await PGConnection.withSession(node: node.name, conninfo: node.conninfo) { session in
            _ = try await session.query("ALTER SYSTEM RESET \(PrimaryState.forcedPromotionSetting)")
            // Releases before 2026-12-05 set the marker on the database: an upgraded cluster
            // must not keep that exemption from fencing forever.
            let database = try await session.query("SELECT current_database() AS d").single().string("d").replacing("\"", with: "\"\"")
            _ = try await session.query("ALTER DATABASE \"\(database)\" RESET \(PrimaryState.forcedPromotionSetting)")
            _ = try await session.query("SELECT pg_reload_conf()")
        }
    }

    /// Points this standby's WAL receiver at `leader` through a replication slot named
    /// after this node, created on the leader if missing, so the leader keeps the WAL this
    /// standby still needs. PostgreSQL 13+ applies both settings on reload.
    public func follow(_ leader: NodeConfig) async throws {
        try await createSlot(on: leader)
        let upstream = upstreamConninfo(leader)
        let slot = slotName
        // ALTER SYSTEM takes no parameters: quote the value as a SQL literal.
        try await PGConnection.withSession(node: node.name, conninfo: node.conninfo) { session in
            _ = try await session.query("ALTER SYSTEM SET primary_conninfo = '\(upstream.replacing("'", with: "''"))'")
            _ = try await session.query("ALTER SYSTEM SET primary_slot_name = '\(slot)'")
            _ = try await session.query("SELECT pg_reload_conf()")
        }
    }
}

public enum AgentError: Error, CustomStringConvertible, Sendable {
    case promotionFailed(node: String, detail: String)
    case cannotFence(node: String, detail: String)
    case cannotRestart(node: String, detail: String)
    case cannotRejoin(node: String, detail: String)
    case cannotClone(node: String, detail: String)
    case noNodes(region: String)
    case staleTerm(node: String, term: Int64, what: String)
    /// The leader key names a node this agent's configuration does not have.
    case unknownLeader(node: String, leader: String)

    public var description: String {
        switch self {
        case let .promotionFailed(node, detail): "promoting \(node) failed: \(detail)"
        case let .cannotFence(node, detail): "fencing \(node) failed: \(detail); stop its database by hand NOW"
        case let .cannotRestart(node, detail): "restarting \(node) failed: \(detail); the failure threshold decides the failover"
        case let .cannotRejoin(node, detail): "rejoining \(node) as a standby failed: \(detail); it stays stopped"
        case let .cannotClone(node, detail): "building \(node) as a standby failed: \(detail); its data directory is left empty"
        case .noNodes(let region): "region \(region) has no database nodes: nothing for an agent to watch yet"
        case let .staleTerm(node, term, what): "\(what) on \(node) refused by etcd: term \(term) is no longer current"
        case let .unknownLeader(node, leader):
            "\(node) cannot follow \(leader): the leader key names a node its configuration does not have; give every agent the same configuration (`drctl preflight` lists the drift)"
        }
    }
}
