import DRPostgres
import DRSystem
import Foundation

/// One lab PostgreSQL server: its data directory, address and log, and the pg_ctl-level
/// operations the lab performs on it. Runs as `ServerUser.forPostgres`.
public struct PostgresServer: Sendable {
    public var name: String
    public var host: String
    public var port: Int
    public var dataDir: String
    public var logFile: String
    let bin: String
    let user: ServerUser
    /// The network namespace it runs in (a region as a host, see `LabHosts`); nil: this one.
    public var namespace: String?
    /// The clients `pg_hba.conf` trusts: loopback, or the region hosts' subnet.
    var clientNetwork: String { namespace == nil ? "127.0.0.0/8" : "\(LabHosts.subnet).0/24" }

    public init(name: String, host: String, port: Int, dataDir: String, logFile: String, namespace: String? = nil) throws {
        self.namespace = namespace
        self.name = name
        self.host = host
        self.port = port
        self.dataDir = dataDir
        self.logFile = logFile
        self.bin = try PostgresBinaries.directory()
        self.user = .forPostgres
    }

    /// The libpq connection string drctl and tests use to reach this server.
    public var conninfo: String { "host=\(host) port=\(port) user=postgres dbname=postgres" }

    /// The postmaster's PID from `postmaster.pid`, when that process is alive.
    public var pid: Int32? {
        guard let text = try? String(contentsOfFile: "\(dataDir)/postmaster.pid", encoding: .utf8),
            let first = text.split(separator: "\n").first, let pid = Int32(first),
            ProcessControl.isAlive(pid)
        else { return nil }
        return pid
    }

    /// Creates a primary's data directory with checksums (which `pg_rewind` needs later).
    /// - Parameter archiveCommand: WAL archiving into the backup repository (`drctl wal-push`), or none.
    func initialize(archiveCommand: String? = nil) async throws {
        try await run(
            [
                "\(bin)/initdb", "-D", dataDir, "-U", "postgres", "--data-checksums",
                "--auth-local=trust", "--auth-host=trust", "--no-instructions",
            ])
        let archiving = archiveCommand.map { ["archive_mode = on", "archive_command = '\($0.replacing("'", with: "''"))'"] } ?? []
        try appendSettings(Self.primarySettings + serverSettings + archiving)
        // The lab is loopback- or namespace-only and throwaway; trust keeps it free of secrets to manage.
        try append(
            "\(dataDir)/pg_hba.conf",
            """

            # drctl-lab: loopback, or the lab's region hosts, only
            host all all \(clientNetwork) trust
            host replication all \(clientNetwork) trust

            """)
    }

    /// Clones `primary` with `pg_basebackup -R` into a streaming standby that uses the
    /// replication slot named after this node and reports itself as `application_name`.
    func cloneStandby(from primary: PostgresServer) async throws {
        let source = "host=\(primary.host) port=\(primary.port) user=postgres application_name=\(name)"
        try await run(
            [
                "\(bin)/pg_basebackup", "-d", source, "-D", dataDir, "-R", "-S", name,
                "-X", "stream", "-c", "fast", "--no-password",
            ])
        try appendSettings(serverSettings)
    }

    static let primarySettings = [
        "wal_level = replica",
        "max_wal_senders = 10",
        "max_replication_slots = 10",
        "wal_keep_size = '256MB'",
        "hot_standby = on",
        "hot_standby_feedback = on",
        "wal_log_hints = on",
        "wal_receiver_status_interval = '1s'",
        "shared_buffers = '32MB'",
        "max_wal_size = '512MB'",
        // Unix sockets are off: long lab paths exceed the socket path limit, and every
        // client of the lab connects over TCP to the region's own address anyway.
        "unix_socket_directories = ''",
        "logging_collector = off",
    ]

    private var serverSettings: [String] {
        ["listen_addresses = '\(host)'", "port = \(port)", "cluster_name = 'drctl-\(name)'"]
    }

    private func appendSettings(_ lines: [String]) throws {
        try append("\(dataDir)/postgresql.conf", "\n# drctl lab\n" + lines.joined(separator: "\n") + "\n")
    }

    private func append(_ path: String, _ text: String) throws {
        guard let handle = FileHandle(forWritingAtPath: path) else { throw LabError.io("cannot open \(path) for writing") }
        defer { try? handle.close() }
        try handle.seekToEnd()
        try handle.write(contentsOf: Data(text.utf8))
    }

    /// Starts the server and waits until it accepts connections.
    public func start() async throws {
        try await run(["\(bin)/pg_ctl", "-D", dataDir, "-l", logFile, "-w", "-t", "60", "start"])
    }

    /// Starts the server unless it runs, as init does after a crash (an agent may have
    /// restarted or rejoined it already). A killed postmaster's backends may still be
    /// exiting: tried for a few seconds. Returns whether it started it.
    @discardableResult
    public func startUnlessRunning() async throws -> Bool {
        var attempt = 0
        while !(pid.map(ProcessControl.isAlive) ?? false) {
            do {
                try await start()
                return true
            } catch {
                attempt += 1
                if attempt >= 10 { throw error }
                try await Task.sleep(for: .milliseconds(500))
            }
        }
        return false
    }

    /// Runs a PostgreSQL program as the server's user, in the server's namespace.
    @discardableResult
    func run(_ arguments: [String], check: Bool = true) async throws -> CommandRunner.Output {
        guard let namespace else { return try await CommandRunner.run(arguments, as: user, check: check) }
        return try await CommandRunner.run(["ip", "netns", "exec", namespace] + user.wrap(arguments), check: check)
    }

    /// Fast shutdown (SIGINT: roll back sessions, checkpoint), escalating to SIGKILL.
    public func stop() async throws {
        guard let pid else { return }
        try await ProcessControl.stop(pid, signal: SIGINT, grace: .seconds(20), name: "PostgreSQL \(name)")
    }

    /// Opens a superuser session to this server.
    public func connect() async throws -> PGConnection {
        try await PGConnection.connect(node: name, conninfo: conninfo, connectTimeout: .seconds(2), statementTimeout: .seconds(60))
    }
}
