import DRSystem
import Foundation

/// The regions lab's databases: region1's primary and region2's hot standby, each in its
/// region's namespace on its region's address, the standby cloned and streaming across the
/// inter-region latency — and psql round trips from one region to another, the latency
/// measured where clients feel it.
extension RegionHostsLab {
    /// A database of this lab: the loopback lab's node record, in a region's namespace.
    public typealias Database = LabState.Node

    /// The server behind `database`, run in its region's namespace.
    public func server(_ database: Database) throws -> PostgresServer {
        try PostgresServer(
            name: database.name, host: database.host, port: database.port, dataDir: database.dataDir, logFile: database.logFile,
            namespace: namespace(database.region))
    }

    /// pg1 in region1 and pg2 in region2, on port 5432 of their region's address.
    static func plannedDatabases(dir: String, hosts: LabHosts) -> [Database] {
        zip(["pg1", "pg2"], hosts.hosts.prefix(2)).map { name, host in
            LabState.Node(
                name: name, region: host.region, host: host.address, port: 5432, dataDir: "\(dir)/\(host.region)/\(name)/data",
                logFile: "\(dir)/\(host.region)/\(name)/postgres.log")
        }
    }

    /// initdb and start the primary, clone the standby from it across the regions (a
    /// replication slot named after it) and wait until it streams.
    func startDatabases(progress: @Sendable (String) -> Void) async throws {
        guard databases.count == 2 else { return }
        let primary = try server(databases[0]), standby = try server(databases[1])
        for database in databases {
            let nodeDir = (database.dataDir as NSString).deletingLastPathComponent
            try FileManager.default.createDirectory(atPath: nodeDir, withIntermediateDirectories: true)
            if ServerUser.forPostgres == .postgres { try await CommandRunner.run(["chown", "-R", "postgres:postgres", nodeDir]) }
        }
        progress("\(databases[0].region): initdb and start primary pg1 on \(primary.host):\(primary.port)")
        try await primary.initialize()
        try await primary.start()
        try await psql(primary, on: primary, "SELECT pg_create_physical_replication_slot('\(standby.name)')")
        progress("\(databases[1].region): clone hot standby pg2 from \(primary.host) with pg_basebackup -R and start it")
        try await standby.cloneStandby(from: primary)
        try await standby.start()
        try await Readiness.wait(for: "standby pg2 streaming from pg1", log: standby.logFile, pid: nil) {
            let rows = try await psql(primary, on: primary, "SELECT count(*) FROM pg_stat_replication WHERE application_name = 'pg2' AND state = 'streaming'")
            return rows.trimmingCharacters(in: .whitespacesAndNewlines) == "1"
        }
    }

    /// Fast shutdown of both servers (a SIGKILLed postmaster would leave its shared memory).
    func stopDatabases() async {
        for database in databases.reversed() { try? await server(database).stop() }
    }

    /// `count` round trips of `SELECT 1` on one session from `region` to `database`, in
    /// milliseconds as psql's `\timing` reports them.
    public func queryRoundTrips(from region: String, to database: Database, count: Int) async throws -> [Double] {
        guard let namespace = namespace(region) else { throw LabError.io("no region \(region) in this lab") }
        let script = (["\\timing on"] + Array(repeating: "SELECT 1;", count: count)).joined(separator: "\n")
        let file = "\(dir)/round-trips.sql"
        try script.write(toFile: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: file) }
        let output = try await CommandRunner.run(
            ["ip", "netns", "exec", namespace, "psql", "host=\(database.host) port=\(database.port) user=postgres dbname=postgres", "-X", "-q", "-f", file])
        return output.stdout.split(separator: "\n").compactMap { line in
            line.hasPrefix("Time: ") ? Double(line.dropFirst(6).split(separator: " ").first ?? "") : nil
        }
    }

    /// Runs `sql` with psql against `target` from `from`'s namespace; its unaligned output.
    @discardableResult
    private func psql(_ from: PostgresServer, on target: PostgresServer, _ sql: String) async throws -> String {
        let bin = try PostgresBinaries.directory()
        return try await from.run(["\(bin)/psql", "host=\(target.host) port=\(target.port) user=postgres dbname=postgres", "-X", "-qtA", "-c", sql]).stdout
    }
}

/// The regions lab's DNS: PowerDNS in a host of its own, its record on the primary's address.
extension RegionHostsLab {
    static let dnsHost = "dns"
    static let zone = "regions.drctl.test."

    static func plannedDNS(dir: String, hosts: LabHosts) -> PowerDNSServer? {
        guard let host = hosts.hosts.first(where: { $0.region == dnsHost }) else { return nil }
        var server = PowerDNSServer(
            host: host.address, port: 53, apiPort: 8081, zone: zone, record: "db.\(zone)", configDir: "\(dir)/dns", logFile: "\(dir)/dns/pdns.log",
            pidFile: "\(dir)/dns/pdns.pid", apiKeyFile: "\(dir)/dns/pdns-api-key")
        server.namespace = host.namespace
        return server
    }

    func startDNS(progress: @Sendable (String) -> Void) async throws {
        guard let dns, let primary = databases.first else { return }
        try FileManager.default.createDirectory(atPath: dns.configDir, withIntermediateDirectories: true)
        progress("dns: PowerDNS on \(dns.host):\(dns.port) in its own host, zone \(dns.zone), record \(dns.record) → \(primary.host)")
        try await dns.start(records: [(String(dns.record.dropLast(dns.zone.count + 1)), primary.host, 5)])
    }

    /// The database record's addresses as `region`'s clients resolve them now (nil: no answer).
    public func resolveDatabaseRecord(from region: String) async throws -> [String]? {
        guard let dns else { throw LabError.io("this regions lab has no DNS server (start it with agents)") }
        guard let namespace = namespace(region) else { throw LabError.io("no region \(region) in this lab") }
        return try await dns.lookup(dns.record, from: namespace)
    }
}
