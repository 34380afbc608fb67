import DRCore
import Testing

/// `PreflightRules`, table-driven: a healthy cluster has no finding, and each broken
/// precondition gives exactly its finding, on the right node, with the right severity.
@Suite struct PreflightRulesTests {
    static let config = try! ConfigLoader.load(yaml: ConfigFixtures.valid, file: "drctl.yaml")

    /// pg-eu primary with both standbys' slots, pg-de and pg-de2 streaming; everything reachable.
    static func healthy() -> PreflightObservations {
        PreflightObservations(
            nodes: [
                "pg-eu": .read(PreflightNodeSettings(slots: ["pg_de", "pg_de2"])), "pg-de": .read(PreflightNodeSettings(inRecovery: true)),
                "pg-de2": .read(PreflightNodeSettings(inRecovery: true)),
            ],
            replicationRefused: ["pg-eu": nil, "pg-de": nil, "pg-de2": nil], etcd: .answered(.milliseconds(10)),
            dnsReadFailed: ["db.shop.example.": nil, "app.example.com.": nil])
    }

    struct Case: Sendable, CustomTestStringConvertible {
        var name: String
        var yaml: String = ConfigFixtures.valid
        var change: @Sendable (inout PreflightObservations) -> Void
        var expected: [String]
        var testDescription: String { name }
    }

    static func settings(_ node: String, _ change: @escaping @Sendable (inout PreflightNodeSettings) -> Void) -> @Sendable (inout PreflightObservations) -> Void {
        { observations in
            guard case .read(var settings) = observations.nodes[node] else { return }
            change(&settings)
            observations.nodes[node] = .read(settings)
        }
    }

    static let noBackup = ConfigFixtures.replacing(
        "backup:\n  repository: /srv/backups/shop\n  repository_region: eu-central\n  allowed_regions: [eu-central, eu-west]\n", with: "")

    static let cases: [Case] = [
        Case(name: "node unreachable", change: { $0.nodes["pg-de"] = .unreachable("connection refused") }, expected: ["blocking connect pg-de"]),
        Case(name: "wal_level minimal", change: settings("pg-eu") { $0.walLevel = "minimal" }, expected: ["blocking wal_level pg-eu"]),
        Case(name: "too few WAL senders", change: settings("pg-de") { $0.maxWalSenders = 2 }, expected: ["blocking max_wal_senders pg-de"]),
        Case(name: "too few slots", change: settings("pg-de2") { $0.maxReplicationSlots = 1 }, expected: ["blocking max_replication_slots pg-de2"]),
        Case(name: "hot_standby off", change: settings("pg-de") { $0.hotStandby = false }, expected: ["warning hot_standby pg-de"]),
        Case(
            name: "no wal_log_hints, no checksums", change: settings("pg-de") { $0.dataChecksums = false }, expected: ["warning rewind pg-de"]),
        Case(
            name: "no rewind possible with auto_rejoin", yaml: ConfigFixtures.replacing("failover:\n", with: "failover:\n  auto_rejoin: true\n"),
            change: settings("pg-de") { $0.dataChecksums = false }, expected: ["blocking rewind pg-de"]),
        Case(
            name: "synchronous mode, but a database commits locally",
            yaml: ConfigFixtures.replacing("failover:\n", with: "failover:\n  synchronous: true\n"),
            change: settings("pg-eu") { $0.asynchronousCommits = ["database shop"] }, expected: ["blocking synchronous_commit pg-eu"]),
        Case(
            name: "synchronous mode, the server's synchronous_commit off",
            yaml: ConfigFixtures.replacing("failover:\n", with: "failover:\n  synchronous: true\n"),
            change: settings("pg-de") { $0.asynchronousCommits = ["server"] }, expected: ["blocking synchronous_commit pg-de"]),
        Case(
            name: "asynchronous mode: synchronous_commit is the operator's business",
            change: settings("pg-eu") { $0.asynchronousCommits = ["server", "role app"] }, expected: []),
        Case(name: "archive_mode off", change: settings("pg-eu") { $0.archiveMode = "off" }, expected: ["blocking archive pg-eu"]),
        Case(name: "archive_command not drctl's", change: settings("pg-de") { $0.archiveCommand = "cp %p /mnt/%f" }, expected: ["blocking archive pg-de"]),
        Case(name: "archiver failing", change: settings("pg-eu") { $0.archiverFailing = true }, expected: ["blocking archive pg-eu"]),
        Case(name: "no restore_command", change: settings("pg-de2") { $0.restoreCommand = "" }, expected: ["warning restore_command pg-de2"]),
        Case(
            name: "no backup section: archiving not required", yaml: noBackup,
            change: settings("pg-eu") {
                $0.archiveMode = "off"; $0.restoreCommand = ""
            }, expected: []),
        Case(name: "a standby's slot missing", change: settings("pg-eu") { $0.slots = ["pg_de"] }, expected: ["warning slot pg-eu"]),
        Case(
            name: "replication refused", change: { $0.replicationRefused["pg-de"] = .some("no pg_hba.conf entry for replication") },
            expected: ["blocking replication_access pg-de"]),
        Case(name: "etcd without quorum", change: { $0.etcd = .failed("context deadline exceeded") }, expected: ["blocking etcd cluster"]),
        Case(name: "etcd slow against the lease", change: { $0.etcd = .answered(.seconds(2)) }, expected: ["warning etcd_latency cluster"]),
        Case(
            name: "a region names an etcd member etcd does not have",
            yaml: ConfigFixtures.replacing("    role: primary\n", with: "    role: primary\n    etcd_member: etcd-eu1\n"),
            change: { $0.etcdMemberNames = ["etcd-eu", "etcd-de", "etcd-witness"] }, expected: ["warning etcd_member cluster"]),
        Case(
            name: "the named etcd member is etcd's",
            yaml: ConfigFixtures.replacing("    role: primary\n", with: "    role: primary\n    etcd_member: etcd-eu\n"),
            change: { $0.etcdMemberNames = ["etcd-eu", "etcd-de", "etcd-witness"] }, expected: []),
        Case(name: "DNS unreadable", change: { $0.dnsReadFailed["db.shop.example."] = .some("HTTP 401") }, expected: ["blocking dns cluster"]),
        Case(
            name: "the pg_ctl of a node's host missing",
            change: { $0.local["pg-de"] = .init(pgCtlFound: false, freeBytes: 50 << 30, totalBytes: 100 << 30) }, expected: ["blocking pg_ctl pg-de"]),
        Case(
            name: "disk nearly full", change: { $0.local["pg-eu"] = .init(pgCtlFound: true, freeBytes: 5 << 30, totalBytes: 100 << 30) },
            expected: ["warning disk pg-eu"]),
        Case(
            name: "disk full", change: { $0.local["pg-eu"] = .init(pgCtlFound: true, freeBytes: 1 << 30, totalBytes: 100 << 30) },
            expected: ["blocking disk pg-eu"]),
        Case(
            name: "archived WAL not fetchable from here", change: { $0.archiveFetch = .failed(segment: "000000010000000000000003", reason: "not in the archive") },
            expected: ["blocking archive_fetch cluster"]),
        Case(
            name: "data_dir is not where the server runs", change: settings("pg-de") { $0.dataDirectory = "/srv/pg/15/main" },
            expected: ["blocking data_dir pg-de"]),
        Case(name: "data_dir is where the server runs", change: settings("pg-de") { $0.dataDirectory = "/var/lib/postgresql/15/main" }, expected: []),
        Case(name: "archived WAL fetched back", change: { $0.archiveFetch = .fetched(segment: "000000010000000000000003") }, expected: []),
        Case(
            name: "a hole in the WAL archive",
            change: { $0.archiveGaps = [.init(timeline: 1, first: "000000010000000000000004", last: "000000010000000000000004", count: 1)] },
            expected: ["warning archive_gaps cluster"]),
        Case(name: "an archive without holes", change: { $0.archiveGaps = [] }, expected: []),
        Case(
            name: "clocks within the round trip", change: { $0.clockOffsets["pg-de"] = .init(offset: .milliseconds(400), uncertainty: .milliseconds(300)) },
            expected: []),
        Case(
            name: "a clock 600 ms ahead", change: { $0.clockOffsets["pg-de"] = .init(offset: .milliseconds(600), uncertainty: .milliseconds(50)) },
            expected: ["warning clock pg-de"]),
        Case(
            name: "a clock 3 s behind", change: { $0.clockOffsets["pg-de2"] = .init(offset: .seconds(-3), uncertainty: .milliseconds(5)) },
            expected: ["blocking clock pg-de2"]),
        Case(
            name: "a DNS token no longer active", change: { $0.dnsCredentialProblems["cf"] = "the API token is expired" },
            expected: ["blocking dns_credentials cluster"]),
        Case(
            name: "failsafe without a secret", yaml: ConfigFixtures.replacing("failover:\n", with: "failover:\n  failsafe: true\n"), change: { _ in },
            expected: ["warning failsafe_secret cluster"]),
        Case(
            name: "failsafe with a secret", yaml: ConfigFixtures.replacing("failover:\n", with: "failover:\n  failsafe: true\n  failsafe_secret_env: FS\n"),
            change: { _ in }, expected: []),
        Case(
            name: "failsafe secret unreadable", yaml: ConfigFixtures.replacing("failover:\n", with: "failover:\n  failsafe: true\n  failsafe_secret_env: FS\n"),
            change: { $0.failsafeSecretProblem = "failover.failsafe_secret: environment variable FS is not set" },
            expected: ["blocking failsafe_secret cluster"]),
        Case(
            name: "agents run different configuration files",
            change: { $0.configHashes = ["pg-eu": "aaaaaaaaaaaa", "pg-de": "aaaaaaaaaaaa", "pg-de2": "bbbbbbbbbbbb"] },
            expected: ["warning config_drift cluster"]),
        Case(
            name: "the same file everywhere, or an older agent that publishes none",
            change: { $0.configHashes = ["pg-eu": "aaaaaaaaaaaa", "pg-de": "", "pg-de2": "aaaaaaaaaaaa"] }, expected: []),
        Case(
            name: "blocking findings come first",
            change: { observations in
                settings("pg-de") { $0.hotStandby = false }(&observations)
                observations.etcd = .failed("no leader")
            }, expected: ["warning hot_standby pg-de", "blocking etcd cluster"]),
    ]

    @Test func aHealthyClusterHasNoFinding() {
        #expect(PreflightRules.findings(config: Self.config, observations: Self.healthy()) == [])
    }

    @Test(arguments: cases) func eachBrokenPreconditionIsFound(_ testCase: Case) throws {
        let config = try ConfigLoader.load(yaml: testCase.yaml, file: "drctl.yaml")
        var observations = Self.healthy()
        testCase.change(&observations)
        let findings = PreflightRules.findings(config: config, observations: observations)
        let found = findings.map { "\($0.severity.rawValue) \($0.check) \($0.node ?? "cluster")" }
        #expect(Set(found) == Set(testCase.expected))
        let severities = findings.map(\.severity)
        let firstWarning = severities.firstIndex(of: .warning) ?? severities.count
        let blockingFirst = !severities[firstWarning...].contains(.blocking)
        #expect(blockingFirst, "blocking first: \(found)")
        for finding in findings {
            let explained = !finding.why.isEmpty && !finding.fix.isEmpty
            #expect(explained)
        }
    }
}
