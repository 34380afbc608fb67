import DRSystem
import Foundation

/// The lab's authoritative DNS server: PowerDNS with the sqlite3 backend and its HTTP API
/// on, serving one zone whose database record points at the primary.
public struct PowerDNSServer: Sendable, Codable, Equatable {
    public var host: String
    public var port: Int
    public var apiPort: Int
    public var zone: String
    /// The database record (fully qualified) that points at the primary.
    public var record: String
    public var configDir: String
    public var logFile: String
    public var pidFile: String
    public var apiKeyFile: String
    /// The network namespace it runs in (the regions lab's `dns` host); nil: this one.
    public var namespace: String? = nil

    public var apiURL: String { "http://\(host):\(apiPort)" }
    public var pid: Int32? { PIDFile.read(pidFile) }
    var database: String { "\(configDir)/pdns.sqlite3" }

    static let schema = "/usr/share/pdns-backend-sqlite3/schema/schema.sqlite3.sql"

    /// Creates the database, the zone with `records` (`name` relative to the zone, address),
    /// the config and the API key, then starts the server and waits until it answers.
    func start(records: [(name: String, address: String, ttl: Int)]) async throws {
        guard FileManager.default.fileExists(atPath: Self.schema) else { throw SystemError.missingProgram("pdns-backend-sqlite3 (\(Self.schema))") }
        try await CommandRunner.run(["sqlite3", database, ".read \(Self.schema)"])
        let apiKey = try SecretFile.createRandom(at: apiKeyFile)
        let conf = """
            launch=gsqlite3
            gsqlite3-database=\(database)
            local-address=\(host)
            local-port=\(port)
            socket-dir=\(configDir)
            guardian=no
            daemon=no
            disable-syslog=yes
            api=yes
            api-key=\(apiKey)
            webserver=yes
            webserver-address=\(host)
            webserver-port=\(apiPort)
            webserver-allow-from=127.0.0.0/8\(namespace == nil ? "" : ",\(LabHosts.subnet).0/24")
            loglevel=4

            """
        // The config holds the API key: readable by its owner only.
        _ = FileManager.default.createFile(atPath: "\(configDir)/pdns.conf", contents: Data(conf.utf8), attributes: [.posixPermissions: 0o600])
        let zoneName = zone.hasSuffix(".") ? String(zone.dropLast()) : zone
        try await CommandRunner.run(["pdnsutil", "--config-dir=\(configDir)", "create-zone", zoneName, "ns1.\(zoneName)"])
        for record in records {
            try await CommandRunner.run(["pdnsutil", "--config-dir=\(configDir)", "add-record", zoneName, record.name, "A", String(record.ttl), record.address])
        }
        let pid = try ProcessControl.spawnDaemon(inNamespace + ["pdns_server", "--config-dir=\(configDir)"], logFile: logFile)
        try PIDFile.write(pid, to: pidFile)
        let probeName = records.first.map { "\($0.name).\(zoneName)" } ?? zoneName
        try await Readiness.wait(for: "PowerDNS on \(host):\(port)", log: logFile, pid: pid) {
            // Another namespace's ports cannot be seen from here: dig runs there instead.
            guard namespace != nil || PortAllocator.isListening(host, apiPort) else { return false }
            return try await lookup(probeName, from: namespace) != nil
        }
    }

    /// The A record's addresses as the server answers them now (via `dig`, run in the
    /// network namespace `from`, nil: this one), nil on no answer.
    public func lookup(_ name: String, from: String? = nil) async throws -> [String]? {
        let output = try await CommandRunner.run(
            (from.map { ["ip", "netns", "exec", $0] } ?? []) + ["dig", "@\(host)", "-p", String(port), name, "A", "+short", "+time=1", "+tries=1"], check: false)
        guard output.status == 0 else { return nil }
        let lines = output.stdout.split(separator: "\n").map(String.init).filter { !$0.isEmpty && !$0.hasPrefix(";") }
        return lines.isEmpty ? nil : lines
    }

    var inNamespace: [String] { namespace.map { ["ip", "netns", "exec", $0] } ?? [] }

    func stop() async throws {
        guard let pid else { return }
        try await ProcessControl.stop(pid, signal: SIGTERM, grace: .seconds(10), name: "PowerDNS")
    }
}

/// Secrets the lab generates: random, written with mode 0600 before any byte of content.
enum SecretFile {
    static func createRandom(at path: String) throws -> String {
        var bytes = [UInt8](repeating: 0, count: 24)
        guard let urandom = FileHandle(forReadingAtPath: "/dev/urandom") else { throw LabError.io("cannot open /dev/urandom") }
        defer { try? urandom.close() }
        let data = try urandom.read(upToCount: bytes.count) ?? Data()
        guard data.count == bytes.count else { throw LabError.io("short read from /dev/urandom") }
        bytes = Array(data)
        let secret = bytes.map { String(format: "%02x", $0) }.joined()
        guard FileManager.default.createFile(atPath: path, contents: Data(secret.utf8), attributes: [.posixPermissions: 0o600]) else {
            throw LabError.io("cannot write \(path)")
        }
        return secret
    }
}
