import DRCore
import DRSystem
import Foundation

/// The local three-region sandbox (docs/lab.md): region 1 primary, region 2 streaming hot
/// standby, region 3 cold (backups only), one etcd member and one PowerDNS server, all on
/// loopback, region k on 127.0.k.1. Tests use exactly this code.
public enum Lab {
    public static let defaultDir = ".lab"
    static let zone = "lab.drctl.test."

    /// Builds and starts the lab in `dir`. Refuses, changing nothing, when `dir` already
    /// holds a lab. On failure, stops whatever it started and removes `dir`.
    ///
    /// - Parameter progress: called with one line per step, for the CLI to print.
    @discardableResult
    /// - Parameter agentBinary: the `drctl` executable whose `agent` command runs each
    ///   region's agent; nil builds the lab without agents (nothing then fails over).
    /// - Parameter etcdMembers: 1, 3 or 5 etcd members on loopback.
    /// - Parameter failover: the config's `failover:` settings that tests and drills vary.
    public static func up(
        dir rawDir: String, agentBinary: String?, etcdMembers: Int = 1, failover: LabFailoverSettings = LabFailoverSettings(),
        progress: @Sendable (String) -> Void = { _ in }
    ) async throws -> LabState {
        guard [1, 3, 5].contains(etcdMembers) else { throw LabError.io("--etcd-members must be 1, 3 or 5, found \(etcdMembers)") }
        let dir = absolute(rawDir)
        if FileManager.default.fileExists(atPath: LabState.file(in: dir)) {
            let state = try LabState.load(dir: dir)
            let pids = try state.livePIDs()
            throw pids.isEmpty ? LabError.staleLab(dir: dir) : LabError.alreadyRunning(dir: dir, pids: pids)
        }
        for program in ["etcd", "etcdctl", "pdns_server", "pdnsutil", "sqlite3", "dig"] { _ = try CommandRunner.resolve(program) }
        _ = try PostgresBinaries.directory()

        var state = try plan(dir: dir, withAgents: agentBinary != nil, etcdMembers: etcdMembers)
        state.drctlBinary = agentBinary
        state.failover = failover
        do {
            try await build(state, progress: progress)
            if let agentBinary { try await LabAgents.start(state, binary: agentBinary, progress: progress) }
            return state
        } catch {
            progress("failed: \(error); cleaning up")
            try? await down(dir: dir)
            throw error
        }
    }

    /// The lab's database nodes: name, region and the region's address.
    public static let nodeLayout = [(name: "pg1", region: "region1", host: "127.0.1.1"), (name: "pg2", region: "region2", host: "127.0.2.1")]

    /// Chooses addresses, free ports and paths. Region k listens on 127.0.k.1 so that a
    /// DNS answer shows which region serves.
    static func plan(dir: String, withAgents: Bool, etcdMembers: Int = 1) throws -> LabState {
        var taken = Set<Int>()
        func port(_ host: String) throws -> Int {
            let chosen = try PortAllocator.freePort(on: host, avoiding: taken)
            taken.insert(chosen)
            return chosen
        }
        let nodes = try nodeLayout.map { name, region, host in
            LabState.Node(
                name: name, region: region, host: host, port: try port(host),
                dataDir: "\(dir)/\(region)/\(name)/data", logFile: "\(dir)/\(region)/\(name)/postgres.log")
        }
        let members = try (1...etcdMembers).map { index in
            let sub = etcdMembers == 1 ? "etcd" : "etcd/e\(index)"
            return EtcdServer(
                host: "127.0.0.1", clientPort: try port("127.0.0.1"), peerPort: try port("127.0.0.1"),
                dataDir: "\(dir)/\(sub)/data", logFile: "\(dir)/\(sub)/etcd.log", pidFile: "\(dir)/\(sub)/etcd.pid")
        }
        let etcd = etcdMembers == 1 ? members : EtcdServer.cluster(members)
        let dns = PowerDNSServer(
            host: "127.0.0.1", port: try port("127.0.0.1"), apiPort: try port("127.0.0.1"), zone: zone,
            record: "db.\(zone)", configDir: "\(dir)/dns", logFile: "\(dir)/dns/pdns.log",
            pidFile: "\(dir)/dns/pdns.pid", apiKeyFile: "\(dir)/secrets/pdns-api-key")
        let agents =
            withAgents
            ? try [("region1", "127.0.1.1"), ("region2", "127.0.2.1")].map { region, host in
                LabState.Agent(
                    region: region, stateDir: "\(dir)/agents/\(region)", logFile: "\(dir)/agents/\(region)/agent.log",
                    pidFile: "\(dir)/agents/\(region)/agent.pid", apiHost: host, apiPort: try port(host))
            } : []
        return LabState(
            dir: dir, cluster: "lab", configFile: "\(dir)/drctl.yaml", backupDir: "\(dir)/region3/backups",
            nodes: nodes, etcd: etcd, dns: dns, agents: agents)
    }

    private static func build(_ state: LabState, progress: @Sendable (String) -> Void) async throws {
        let fm = FileManager.default
        for sub in ["region1/pg1", "region2/pg2", "region3/backups", "dns", "secrets"] {
            try fm.createDirectory(atPath: "\(state.dir)/\(sub)", withIntermediateDirectories: true)
        }
        for member in state.etcd {
            try fm.createDirectory(atPath: (member.logFile as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        }
        try fm.setAttributes([.posixPermissions: 0o700], ofItemAtPath: "\(state.dir)/secrets")
        // With failsafe the agents sign their requests to each other, as production should.
        if state.failover.failsafe == true { _ = try SecretFile.createRandom(at: state.failsafeSecretFile) }
        // lab.json first: from here on, `lab down` can clean up whatever gets started.
        try state.save()
        // The config before any server: archive_command reads it from the first segment on.
        try LabConfigFile.render(state).write(toFile: state.configFile, atomically: true, encoding: .utf8)
        try await handOverToPostgresUser(state)

        guard let primaryNode = state.nodes.first, let standbyNode = state.nodes.last else { return }
        let primary = try state.server(primaryNode), standby = try state.server(standbyNode)
        progress("region1: initdb and start primary \(primary.name) on \(primary.host):\(primary.port)")
        try await primary.initialize(archiveCommand: state.drctlBinary.map { "\($0) wal-push %p %f --config \(state.configFile)" })
        try await primary.start()
        let session = try await primary.connect()
        _ = try await session.query("SELECT pg_create_physical_replication_slot($1)", [standby.name])
        await session.close()

        progress("region2: clone hot standby \(standby.name) with pg_basebackup -R and start it on \(standby.host):\(standby.port)")
        try await standby.cloneStandby(from: primary)
        try await standby.start()
        try await waitForStreaming(primary: primary, standby: standby.name, log: standby.logFile)

        progress("region3: cold region, backup repository \(state.backupDir)")
        progress("etcd: starting \(state.etcd.count) member(s) on \(state.etcd.map(\.endpoint).joined(separator: ", "))")
        try await EtcdServer.start(state.etcd)

        progress("dns: starting PowerDNS on \(state.dns.host):\(state.dns.port), zone \(state.dns.zone), API \(state.dns.apiURL)")
        let record = String(state.dns.record.dropLast(state.dns.zone.count + 1))
        try await state.dns.start(records: [(record, primary.host, 5)])

        progress("config: \(state.configFile)")
    }

    /// PostgreSQL runs as `postgres` when we are root: give it the node directories, and
    /// fail early with advice when it cannot reach them (e.g. a lab under /root).
    private static func handOverToPostgresUser(_ state: LabState) async throws {
        guard ServerUser.forPostgres == .postgres else { return }
        // The backup repository belongs to the server's user: archive_command writes WAL into it.
        try await CommandRunner.run(["chown", "postgres:postgres", state.backupDir])
        for node in state.nodes {
            let nodeDir = (node.dataDir as NSString).deletingLastPathComponent
            try await CommandRunner.run(["chown", "-R", "postgres:postgres", nodeDir])
            let probe = try await CommandRunner.run(["test", "-w", nodeDir], as: .postgres, check: false)
            if probe.status != 0 { throw LabError.inaccessible(dir: state.dir, user: "postgres") }
        }
    }

    private static func waitForStreaming(primary: PostgresServer, standby: String, log: String) async throws {
        try await Readiness.wait(for: "standby \(standby) streaming from \(primary.name)", log: log, pid: nil) {
            let session = try await primary.connect()
            let rows = try? await session.query("SELECT 1 FROM pg_stat_replication WHERE application_name = $1 AND state = 'streaming'", [standby])
            await session.close()
            return rows.map { !$0.rows.isEmpty } ?? false
        }
    }

    /// Stops every lab process by PID and removes `dir`. Safe to run on a half-built or
    /// already stopped lab; refuses a directory that is not a lab.
    public static func down(dir rawDir: String, progress: @Sendable (String) -> Void = { _ in }) async throws {
        let dir = absolute(rawDir)
        let state = try LabState.load(dir: dir)
        await LabNetwork.healAll(state)
        var failures: [String] = []
        // Agents first, standbys' before the primary's, so no standby agent is left to react
        // to the primary going. Their watchdogs outlive them by design (a restart is no
        // failover); they go with the lab's other processes below.
        for agent in state.agents.reversed() {
            if let pid = agent.pid {
                do { try await ProcessControl.stop(pid, signal: SIGTERM, grace: .seconds(15), name: "agent \(agent.region)") } catch { failures.append("\(error)") }
            }
            progress("stopped agent \(agent.region)")
        }
        for node in state.nodes.reversed() {
            do { try await state.server(node).stop() } catch { failures.append("\(error)") }
            progress("stopped \(node.name)")
        }
        for member in state.etcd {
            do { try await member.stop() } catch { failures.append("\(error)") }
        }
        progress("stopped etcd")
        do { try await state.dns.stop() } catch { failures.append("\(error)") }
        progress("stopped PowerDNS")
        // Anything else still running from the lab directory (a backend orphaned by a
        // killed postmaster, a restored scratch instance) goes too: `down` leaves nothing.
        for pid in ProcessControl.processes(mentioning: dir + "/") {
            do { try await ProcessControl.stop(pid, grace: .seconds(5), name: "lab process") } catch { failures.append("\(error)") }
        }
        await unmountAll(under: dir)
        guard failures.isEmpty else {
            throw LabError.io("lab down could not stop everything, so \(dir) was kept:\n" + failures.joined(separator: "\n"))
        }
        try FileManager.default.removeItem(atPath: dir)
        progress("removed \(dir)")
    }

    public static func status(dir: String) throws -> LabStatus {
        try LabStatus(LabState.load(dir: absolute(dir)))
    }

    /// `path` made absolute against the working directory.
    public static func absolute(_ path: String) -> String {
        let url = path.hasPrefix("/") ? URL(fileURLWithPath: path) : URL(fileURLWithPath: FileManager.default.currentDirectoryPath).appendingPathComponent(path)
        return url.standardizedFileURL.path
    }
}
