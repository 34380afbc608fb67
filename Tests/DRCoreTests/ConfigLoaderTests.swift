import DRCore
import Foundation
import Testing

@Suite struct ConfigLoaderTests {
    @Test func loadsTheFullExample() throws {
        let config = try ConfigLoader.load(yaml: ConfigFixtures.valid, file: "drctl.yaml")
        #expect(config.cluster == "shop")
        #expect(config.objectives == Objectives(rto: .seconds(30), rpo: .seconds(5)))
        #expect(config.coordination.endpoints.count == 3)
        #expect(config.coordination.leaseTTL == .seconds(5))
        #expect(config.coordination.prefix == "/drctl/shop/")
        #expect(config.health.checks == [.postgres, .tcp(target: "{address}:5432")])
        #expect(config.failover.dnsUpdateTimeout == .seconds(10), "default")
        #expect(config.regions.map(\.role) == [.primary, .hotStandby, .cold])
        #expect(config.regions[2].priority == 100, "default priority")
        let de = try #require(config.node(named: "pg-de"))
        #expect(de.region.name == "eu-central")
        #expect(de.node.tags == [.nofailover])
        #expect(de.node.connection.host == "10.0.2.10")
        #expect(config.dns.providers[0].credentials["api_key"] == .environment("PDNS_API_KEY"))
        #expect(config.dns.providers[1].url == "https://api.cloudflare.com/client/v4")
        #expect(config.dns.providers[1].zone == "example.com.")
        #expect(config.dns.records[1].name == "app.example.com.")
        #expect(config.dns.records[1].target == .region("eu-central"))
        #expect(config.backup?.allowedRegions == ["eu-central", "eu-west"])
    }

    @Test func appliesDefaultsToAMinimalConfig() throws {
        let config = try ConfigLoader.load(
            yaml: """
                cluster: tiny
                objectives: {rto: 1m, rpo: 0s}
                coordination: {endpoints: ["http://127.0.0.1:2379"]}
                regions:
                  - {name: a, role: primary, nodes: [{name: n1, conninfo: "host=127.0.0.1", data_dir: /var/lib/postgresql/15/n1}]}
                """, file: "tiny.yaml")
        #expect(config.health.interval == .seconds(1))
        #expect(config.health.failures == 3)
        #expect(config.health.checks == [.postgres])
        #expect(config.coordination.leaseTTL == .seconds(10))
        #expect(config.failover.cooldown == .seconds(300))
        #expect(config.dns == .none)
        #expect(config.backup == nil)
    }

    /// One bad configuration: what it breaks, and what the error must say and where.
    struct BadConfig: CustomTestStringConvertible, Sendable {
        var name: String
        var yaml: String
        var message: String
        var line: Int?
        var testDescription: String { name }
    }

    static let badConfigs: [BadConfig] = [
        .init(name: "empty file", yaml: "", message: "the file is empty", line: nil),
        .init(name: "YAML syntax", yaml: "cluster: [shop\nobjectives: {}", message: "YAML syntax error", line: nil),
        .init(
            name: "unknown top-level key", yaml: ConfigFixtures.replacing("failover:", with: "failovr:"),
            message: "unknown key \"failovr\" (did you mean \"failover\"?)", line: 16),
        .init(
            name: "unknown nested key", yaml: ConfigFixtures.replacing("    priority: 90", with: "    prority: 90"),
            message: "regions[1].prority: unknown key", line: 30),
        .init(
            name: "missing cluster", yaml: ConfigFixtures.replacing("cluster: shop\n", with: ""),
            message: "cluster: is required", line: 1),
        .init(
            name: "duration without unit", yaml: ConfigFixtures.replacing("rto: 30s", with: "rto: 30"),
            message: "objectives.rto: expected a duration", line: 3),
        .init(
            name: "duration out of range", yaml: ConfigFixtures.replacing("interval: 1s", with: "interval: 10ms"),
            message: "health.interval: 10ms is out of range", line: 9),
        .init(
            name: "fractional lease TTL", yaml: ConfigFixtures.replacing("lease_ttl: 5s", with: "lease_ttl: 2500ms"),
            message: "etcd lease TTLs are whole seconds", line: 7),
        .init(
            name: "endpoint not a URL", yaml: ConfigFixtures.replacing("http://10.0.2.5:2379", with: "10.0.2.5:2379"),
            message: "coordination.endpoints[1]: expected an etcd client URL", line: 6),
        .init(
            name: "bad region role", yaml: ConfigFixtures.replacing("role: cold", with: "role: warm"),
            message: "expected one of primary, hot-standby, cold, found \"warm\"", line: 42),
        .init(
            name: "two primary regions", yaml: ConfigFixtures.replacing("role: hot-standby", with: "role: primary"),
            message: "exactly one region must have role primary, found eu-west, eu-central", line: nil),
        .init(
            name: "duplicate node name", yaml: ConfigFixtures.replacing("name: pg-de2", with: "name: pg-eu"),
            message: "node \"pg-eu\" is defined twice", line: 37),
        .init(
            name: "password in conninfo", yaml: ConfigFixtures.replacing("user=drctl dbname", with: "user=drctl password=hunter2 dbname"),
            message: "must not contain a password", line: 25),
        .init(
            name: "malformed conninfo", yaml: ConfigFixtures.replacing("conninfo: \"host=10.0.2.11\"", with: "conninfo: \"host='10.0.2.11\""),
            message: "is not a valid libpq connection string: a single-quoted value is not closed", line: 38),
        .init(
            name: "unknown tag", yaml: ConfigFixtures.replacing("tags: [nofailover]", with: "tags: [nofailvoer]"),
            message: "found \"nofailvoer\" (did you mean \"nofailover\"?)", line: 36),
        .init(
            name: "hot-standby region without nodes",
            yaml: ConfigFixtures.replacing("    role: cold\n    nodes: []", with: "    role: hot-standby\n    nodes: []"),
            message: "a hot-standby region needs at least one node", line: 43),
        .init(
            name: "node under automatic failover without data_dir",
            yaml: ConfigFixtures.replacing("        data_dir: /var/lib/postgresql/15/main\n", with: ""),
            message: "node \"pg-eu\" is in primary region \"eu-west\", under automatic failover, but has no data_dir: its agent could not fence", line: 24),
        .init(
            name: "inline DNS secret", yaml: ConfigFixtures.replacing("api_key_env: PDNS_API_KEY", with: "api_key: abc123"),
            message: "secrets are never read from the config", line: 50),
        .init(
            name: "record with unknown provider", yaml: ConfigFixtures.replacing("provider: pdns", with: "provider: pnds"),
            message: "no provider named \"pnds\" in dns.providers (did you mean \"pdns\"?)", line: 59),
        .init(
            name: "record outside its zone", yaml: ConfigFixtures.replacing("name: db.shop.example.", with: "name: db.other.example."),
            message: "db.other.example. is not inside zone shop.example.", line: 56),
        .init(
            name: "Cloudflare TTL below 60s", yaml: ConfigFixtures.replacing("ttl: 60s", with: "ttl: 30s"),
            message: "Cloudflare accepts a TTL of 1s (automatic) or 60s to 86400s", line: 63),
        .init(
            name: "A record needs IPv4 addresses", yaml: ConfigFixtures.replacing("address: 10.0.2.11", with: "address: db2.internal"),
            message: "the address must be an IPv4 address, found \"db2.internal\"", line: 39),
        .init(
            name: "node without address behind a primary record", yaml: ConfigFixtures.replacing("        address: 10.0.1.10\n", with: ""),
            message: "node \"pg-eu\" needs an address", line: 24),
        .init(
            name: "data residency violated", yaml: ConfigFixtures.replacing("repository_region: eu-central", with: "repository_region: us-east"),
            message: "data residency: backups may be stored only in eu-central, eu-west, but the repository is in us-east", line: 68),
        .init(
            name: "check timeout longer than interval", yaml: ConfigFixtures.replacing("timeout: 500ms", with: "timeout: 2s"),
            message: "is longer than the interval 1s", line: 11),
        .init(
            name: "list where a mapping belongs", yaml: ConfigFixtures.replacing("objectives:\n  rto: 30s\n  rpo: 5s", with: "objectives: [30s, 5s]"),
            message: "objectives: expected a mapping with keys rpo, rto, found a list", line: 2),
        .init(
            name: "duplicate key", yaml: ConfigFixtures.replacing("  rpo: 5s", with: "  rpo: 5s\n  rpo: 1s"),
            message: "duplicate key \"rpo\"", line: 4),
        .init(
            name: "relative repository path", yaml: ConfigFixtures.replacing("repository: /srv/backups/shop", with: "repository: backups"),
            message: "backup.repository: expected an absolute directory path", line: 67),
        .init(
            name: "inline backup key",
            yaml: ConfigFixtures.replacing("  allowed_regions: [eu-central, eu-west]\n", with: "  allowed_regions: [eu-central, eu-west]\n  encryption: {key: 00ff}\n"),
            message: "secrets are never read from the config", line: 70),
        .init(
            name: "backup key in two places",
            yaml: ConfigFixtures.replacing(
                "  allowed_regions: [eu-central, eu-west]\n", with: "  allowed_regions: [eu-central, eu-west]\n  encryption: {key_env: K, key_file: /k}\n"),
            message: "give key_env or key_file, not both", line: 70),
    ]

    @Test(arguments: badConfigs)
    func rejectsBadConfig(_ bad: BadConfig) throws {
        let error = try #require(throws: ConfigError.self) { try ConfigLoader.load(yaml: bad.yaml, file: "drctl.yaml") }
        let matching = error.diagnostics.filter { $0.description.contains(bad.message) }
        #expect(!matching.isEmpty, "expected a diagnostic containing \(bad.message); got:\n\(error)")
        if let line = bad.line {
            #expect(matching.contains { $0.line == line }, "expected it at line \(line); got:\n\(error)")
        }
        #expect(error.diagnostics.allSatisfy { $0.file == "drctl.yaml" })
    }

    @Test func reportsEveryProblemAtOnce() throws {
        var yaml = ConfigFixtures.replacing("rto: 30s", with: "rto: soon")
        yaml = yaml.replacingOccurrences(of: "failures: 3", with: "failures: 0")
        yaml = yaml.replacingOccurrences(of: "role: cold", with: "role: frozen")
        yaml = yaml.replacingOccurrences(of: "points_to: primary", with: "points_to: leader")
        let error = try #require(throws: ConfigError.self) { try ConfigLoader.load(yaml: yaml, file: "x.yaml") }
        let paths = Set(error.diagnostics.map(\.path))
        #expect(paths.isSuperset(of: ["objectives.rto", "health.failures", "regions[2].role", "dns.records[0].points_to"]), "\(error)")
    }

    @Test func readsWhereTheBackupKeysAre() throws {
        let yaml = ConfigFixtures.replacing(
            "  allowed_regions: [eu-central, eu-west]\n",
            with: "  allowed_regions: [eu-central, eu-west]\n  encryption:\n    key_file: /etc/drctl/backup.key\n    previous_key_files: [/etc/drctl/old.key]\n")
        let config = try ConfigLoader.load(yaml: yaml, file: "x.yaml")
        #expect(config.backup?.encryption == BackupEncryption(key: .file("/etc/drctl/backup.key"), previousKeys: [.file("/etc/drctl/old.key")]))
        #expect(try ConfigLoader.load(yaml: ConfigFixtures.valid, file: "x.yaml").backup?.encryption == nil, "off unless configured")
    }

    @Test func readsTheLogFormatAndLevel() throws {
        #expect(try ConfigLoader.load(yaml: ConfigFixtures.valid, file: "x.yaml").log == LogConfig(format: .text, level: .info), "text at info unless set")
        let json = try ConfigLoader.load(yaml: ConfigFixtures.valid + "log: {format: json, level: debug}\n", file: "x.yaml")
        #expect(json.log == LogConfig(format: .json, level: .debug))
        let error = try #require(throws: ConfigError.self) { try ConfigLoader.load(yaml: ConfigFixtures.valid + "log: {format: jsn}\n", file: "x.yaml") }
        #expect(error.description.contains("did you mean \"json\""), "\(error)")
    }

    @Test func neverEchoesAnInlineSecret() throws {
        let yaml = ConfigFixtures.replacing("api_key_env: PDNS_API_KEY", with: "api_key: very-secret-value")
        let error = try #require(throws: ConfigError.self) { try ConfigLoader.load(yaml: yaml, file: "x.yaml") }
        #expect(!error.description.contains("very-secret-value"))
        let conninfo = ConfigFixtures.replacing("user=drctl dbname", with: "user=drctl password=hunter2 dbname")
        let second = try #require(throws: ConfigError.self) { try ConfigLoader.load(yaml: conninfo, file: "x.yaml") }
        #expect(!second.description.contains("hunter2"))
    }
}
